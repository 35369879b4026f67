import crypto from 'node:crypto';

/**
 * AES-256-GCM with one data key (GRIDFLOW_DATA_KEY, 32 bytes in base64). Used for personal data at
 * rest and for Temporal payloads. The key id (a hash prefix) travels with the ciphertext, so a key
 * rotation can tell old data from new.
 */
export class DataKey {
  readonly id: string;
  private readonly key: Buffer;

  constructor(base64: string) {
    const key = Buffer.from(base64, 'base64');
    if (key.length !== 32) throw new Error('GRIDFLOW_DATA_KEY must be 32 bytes in base64 (openssl rand -base64 32)');
    this.key = key;
    this.id = crypto.createHash('sha256').update(key).digest('hex').slice(0, 12);
  }

  /** A key for one purpose (signing links, say), derived from the data key so it needs no setting of its own. */
  derive(purpose: string): Buffer {
    return crypto.createHmac('sha256', this.key).update(`gridflow:${purpose}`).digest();
  }

  static generate(): string {
    return crypto.randomBytes(32).toString('base64');
  }

  encrypt(plain: Uint8Array): Buffer {
    const iv = nextIv();
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  decrypt(data: Uint8Array): Buffer {
    const buf = Buffer.from(data);
    const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, buf.subarray(0, 12));
    decipher.setAuthTag(buf.subarray(12, 28));
    return Buffer.concat([decipher.update(buf.subarray(28)), decipher.final()]);
  }

  /** `enc:v1:<key id>:<base64>`; a value already in that form is left as it is. */
  encryptText(text: string): string {
    if (text.startsWith('enc:v1:')) return text;
    return `enc:v1:${this.id}:${this.encrypt(Buffer.from(text, 'utf8')).toString('base64')}`;
  }

  decryptText(text: string): string {
    if (!text.startsWith('enc:v1:')) return text;
    const [, , , data] = text.split(':');
    return this.decrypt(Buffer.from(data, 'base64')).toString('utf8');
  }
}

/**
 * A fresh random 96-bit IV for each encryption, cut from a buffer of 512 drawn at once: one call to
 * the random source per 512 payloads rather than one each (every Temporal payload is encrypted).
 * Random IVs under one key stay unique with overwhelming probability whoever draws them.
 */
let ivs = Buffer.alloc(0);
let ivAt = 0;
function nextIv(): Buffer {
  if (ivAt + 12 > ivs.length) {
    ivs = crypto.randomBytes(12 * 512);
    ivAt = 0;
  }
  // A copy: the ciphertext keeps its IV, and the pool is dropped once used up.
  const iv = Buffer.from(ivs.subarray(ivAt, ivAt + 12));
  ivAt += 12;
  return iv;
}
