import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { DataKey } from './crypto';

const ENCODING = 'binary/encrypted';
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null | undefined) => (b ? new TextDecoder().decode(b) : '');
const NULL = 'binary/null';
const isNull = (p: Payload) => (p.data === undefined || p.data === null || p.data.length === 0) && dec(p.metadata?.encoding) === NULL;

/**
 * Encrypts every workflow and activity payload (inputs, results, signals, updates, queries), so
 * the Temporal server and its UI never hold personal data in clear. Payloads written before the
 * codec existed decode as they are.
 */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly key: DataKey) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    // A null (undefined, void) payload carries nothing to hide: a local activity's empty result, say.
    return payloads.map((p) => (isNull(p) ? p : {
      metadata: { encoding: enc(ENCODING), 'encryption-key-id': enc(this.key.id) },
      data: this.key.encrypt(temporal.api.common.v1.Payload.encode(p).finish()),
    }));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (dec(p.metadata?.encoding) !== ENCODING) return p;
      const keyId = dec(p.metadata?.['encryption-key-id']);
      if (keyId !== this.key.id) throw new Error(`payload encrypted with key ${keyId}; this process has key ${this.key.id}`);
      return temporal.api.common.v1.Payload.decode(this.key.decrypt(p.data as Uint8Array)) as Payload;
    });
  }
}
