import { DefaultPayloadConverter } from '@temporalio/common';
import { EncryptionCodec } from '../../infra/codec';
import { DataKey } from '../../infra/crypto';

/**
 * The payload codec: every payload that carries a value is encrypted with the data key, so the
 * Temporal server never holds one in clear; only the null payload (an activity's empty result)
 * passes as it is, having nothing to hide.
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
