import { DefaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { COMPRESS_FROM_BYTES, EncryptionCodec } from '../../infra/codec';
import { DataKey } from '../../infra/crypto';

/**
 * The payload codec: every payload that carries a value is encrypted with the data key, so the
 * Temporal server never holds one in clear; only the null payload (an activity's empty result)
 * passes as it is, having nothing to hide. Large payloads are deflated first.
 */
const key = new DataKey(DataKey.generate());
const codec = new EncryptionCodec(key);
const converter = new DefaultPayloadConverter();
const text = (b: Uint8Array | null | undefined) => new TextDecoder().decode(b ?? new Uint8Array());

test.each([
  ['an object', { phone: '13800000000', note: '楼道灯不亮' }],
  ['a string', '13800000000'],
  ['an empty string', ''],
  ['zero', 0],
  ['false', false],
  ['null', null],
  ['an empty array', []],
])('%s is encrypted, and decodes to what it was', async (_, value) => {
  const plain = converter.toPayload(value);
  const [sealed] = await codec.encode([plain]);
  expect(text(sealed.metadata?.encoding)).toBe('binary/encrypted');
  expect(text(sealed.data)).not.toContain('13800000000');
  const [opened] = await codec.decode([sealed]);
  expect(converter.fromPayload(opened)).toEqual(value);
});

test('the null payload (undefined) passes unencrypted, and decodes to undefined', async () => {
  const plain = converter.toPayload(undefined);
  expect(text(plain.metadata?.encoding)).toBe('binary/null');
  const [sealed] = await codec.encode([plain]);
  expect(sealed).toBe(plain);
  const [opened] = await codec.decode([sealed]);
  expect(converter.fromPayload(opened)).toBeUndefined();
});

test('a payload that claims to be null but carries data is encrypted like any other', async () => {
  const forged = { metadata: { encoding: new TextEncoder().encode('binary/null') }, data: new TextEncoder().encode('13800000000') };
  const [sealed] = await codec.encode([forged]);
  expect(text(sealed.metadata?.encoding)).toBe('binary/encrypted');
});

test('each encryption draws its own IV: the same payload never encrypts to the same bytes', async () => {
  const plain = converter.toPayload({ same: true });
  const sealed = await codec.encode(Array.from({ length: 1200 }, () => plain));
  const ivs = new Set(sealed.map((p) => Buffer.from(p.data as Uint8Array).subarray(0, 12).toString('hex')));
  expect(ivs.size).toBe(1200);
});

describe('large payloads are deflated before they are encrypted', () => {
  // A process's start carries its whole definition: the is about 28 KB of JSON.
  const definition = { key: 'issue', states: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`state-${i}`, { on: { NEXT: `state-${i + 1}` }, description: '网格员上报，社区研判后处理' }])) };
  const big = { definition, input: { reporterPhone: '13800000000' } };

  test('a payload from COMPRESS_FROM_BYTES up is marked, smaller on the wire, still sealed, and decodes to what it was', async () => {
    const plain = converter.toPayload(big);
    expect(plain.data?.length).toBeGreaterThanOrEqual(COMPRESS_FROM_BYTES);
    const [sealed] = await codec.encode([plain]);
    expect(text(sealed.metadata?.encoding)).toBe('binary/encrypted');
    expect(text(sealed.metadata?.compression)).toBe('deflate-raw');
    expect(sealed.data?.length).toBeLessThan((plain.data?.length ?? 0) / 4);
    expect(text(sealed.data)).not.toContain('13800000000');
    const [opened] = await codec.decode([sealed]);
    expect(converter.fromPayload(opened)).toEqual(big);
  });

  test('a payload just under the threshold is not deflated', async () => {
    const under = 'x'.repeat(COMPRESS_FROM_BYTES - 100);
    const [sealed] = await codec.encode([converter.toPayload(under)]);
    expect(sealed.metadata?.compression).toBeUndefined();
    expect(converter.fromPayload((await codec.decode([sealed]))[0])).toBe(under);
  });

  test('a large payload sealed before the codec deflated (no compression mark) still decodes', async () => {
    const plain = converter.toPayload(big);
    const old = { metadata: { encoding: new TextEncoder().encode('binary/encrypted'), 'encryption-key-id': new TextEncoder().encode(key.id) }, data: key.encrypt(temporal.api.common.v1.Payload.encode(plain).finish()) };
    expect(converter.fromPayload((await codec.decode([old]))[0])).toEqual(big);
  });

  test('an unknown compression is refused by name, not read as garbage', async () => {
    const [sealed] = await codec.encode([converter.toPayload(big)]);
    const forged = { ...sealed, metadata: { ...sealed.metadata, compression: new TextEncoder().encode('zstd') } };
    await expect(codec.decode([forged])).rejects.toThrow('payload compressed with "zstd"; this process reads "deflate-raw" only');
  });
});
