import type { Payload, PayloadCodec } from '@temporalio/common';
import zlib from 'node:zlib';
import { temporal } from '@temporalio/proto';
import type { DataKey } from './crypto';

const ENCODING = 'binary/encrypted';
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null | undefined) => (b ? new TextDecoder().decode(b) : '');
const NULL = 'binary/null';
const isNull = (p: Payload) => (p.data === undefined || p.data === null || p.data.length === 0) && dec(p.metadata?.encoding) === NULL;

/**
 * Payloads this large are compressed (raw deflate, level 1) before they are encrypted: a process's
 * start carries its whole definition (the is 28 KB of JSON, 7.5 KB deflated), which the
 * Temporal server would otherwise take in, store in history and send to the worker at full size.
 * Smaller ones (an event, a step's bookkeeping) gain less than deflating them costs.
 */
export const COMPRESS_FROM_BYTES = 4096;
const COMPRESSION = 'deflate-raw';
/** No payload inflates beyond this (Temporal refuses payloads over 2 MB by default anyway). */
const MAX_INFLATED_BYTES = 64 << 20;

/**
 * Encrypts every workflow and activity payload (inputs, results, signals, updates, queries), so
 * the Temporal server and its UI never hold personal data in clear; large ones are deflated first
 * (COMPRESS_FROM_BYTES). Payloads written before the codec existed, or before it compressed, decode
 * as they are.
 */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly key: DataKey) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    // A null (undefined, void) payload carries nothing to hide: a local activity's empty result, say.
    return payloads.map((p) => {
      if (isNull(p)) return p;
      const plain = temporal.api.common.v1.Payload.encode(p).finish();
      const squeeze = plain.length >= COMPRESS_FROM_BYTES;
      return {
        metadata: { encoding: enc(ENCODING), 'encryption-key-id': enc(this.key.id), ...(squeeze ? { compression: enc(COMPRESSION) } : {}) },
        data: this.key.encrypt(squeeze ? zlib.deflateRawSync(plain, { level: 1 }) : plain),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (dec(p.metadata?.encoding) !== ENCODING) return p;
      const keyId = dec(p.metadata?.['encryption-key-id']);
      if (keyId !== this.key.id) throw new Error(`payload encrypted with key ${keyId}; this process has key ${this.key.id}`);
      const compression = dec(p.metadata?.compression);
      if (compression && compression !== COMPRESSION) throw new Error(`payload compressed with "${compression}"; this process reads "${COMPRESSION}" only`);
      const plain = this.key.decrypt(p.data as Uint8Array);
      return temporal.api.common.v1.Payload.decode(compression ? zlib.inflateRawSync(plain, { maxOutputLength: MAX_INFLATED_BYTES }) : plain) as Payload;
    });
  }
}
