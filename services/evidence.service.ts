import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { EvidenceSettings } from '../config/config';
import type { EvidenceRef } from '../engine/evidence';
import { DEFAULT_ZONE, formatLocal } from '../engine/time';
import { ProblemError, badRequest, notFound } from './errors';

/** Where evidence bytes live, by their SHA-256: the same file stored twice is one object. */
export interface EvidenceStore {
  readonly kind: string;
  put(sha256: string, bytes: Buffer, type: string): Promise<void>;
  get(sha256: string): Promise<Buffer | undefined>;
}

/** Files under `<data dir>/evidence/ab/abcdef...`, written to a temporary name and renamed into place. */
export class LocalEvidenceStore implements EvidenceStore {
  readonly kind = 'local';
  constructor(private readonly dir: string) {}

  private file(sha256: string): string {
    return path.join(this.dir, sha256.slice(0, 2), sha256);
  }

  async put(sha256: string, bytes: Buffer): Promise<void> {
    const file = this.file(sha256);
    if (await fs.stat(file).then(() => true, () => false)) return;
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    await fs.writeFile(tmp, bytes, { mode: 0o600 });
    await fs.rename(tmp, file);
  }

  async get(sha256: string): Promise<Buffer | undefined> {
    return fs.readFile(this.file(sha256)).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
  }
}

const hex = (data: string | Buffer) => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => crypto.createHmac('sha256', key).update(data).digest();

/**
 * AWS Signature Version 4 headers for one S3 request (path-style URL, payload hash signed).
 * `now` is injectable so the signature can be checked against AWS's published examples.
 */
export function signS3Request(p: {
  method: string;
  url: URL;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  payloadHash: string;
  headers?: Record<string, string>;
  now?: Date;
}): Record<string, string> {
  const amzDate = (p.now ?? new Date()).toISOString().replace(/[:-]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = { ...Object.fromEntries(Object.entries(p.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v.trim()])), host: p.url.host, 'x-amz-content-sha256': p.payloadHash, 'x-amz-date': amzDate };
  const names = Object.keys(headers).sort();
  const query = [...p.url.searchParams.entries()]
    .map(([k, v]) => [encodeURIComponent(k), encodeURIComponent(v)])
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonical = [p.method, p.url.pathname, query, ...names.map((n) => `${n}:${headers[n]}`), '', names.join(';'), p.payloadHash].join('\n');
  const scope = `${day}/${p.region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, hex(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${p.secretAccessKey}`, day), p.region), 's3'), 'aws4_request');
  const signature = crypto.createHmac('sha256', key).update(toSign).digest('hex');
  return { ...headers, authorization: `AWS4-HMAC-SHA256 Credential=${p.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}` };
}

/** Any S3-compatible store (AWS, MinIO, OSS, COS) by path-style URLs signed with SigV4. */
export class S3EvidenceStore implements EvidenceStore {
  readonly kind = 's3';
  constructor(private readonly s: Extract<EvidenceSettings['store'], { kind: 's3' }>) {}

  private url(sha256: string): URL {
    return new URL(`${this.s.endpoint.replace(/\/$/, '')}/${this.s.bucket}/evidence/${sha256.slice(0, 2)}/${sha256}`);
  }

  private async request(method: 'PUT' | 'GET' | 'HEAD', sha256: string, body?: Buffer, type?: string): Promise<Response> {
    const url = this.url(sha256);
    const headers = signS3Request({ method, url, region: this.s.region, accessKeyId: this.s.accessKeyId, secretAccessKey: this.s.secretAccessKey, payloadHash: body ? hex(body) : hex(''), headers: type ? { 'content-type': type } : {} });
    delete headers.host;
    return fetch(url, { method, headers, body: body ? new Uint8Array(body) : undefined, signal: AbortSignal.timeout(30_000) });
  }

  async put(sha256: string, bytes: Buffer, type: string): Promise<void> {
    if ((await this.request('HEAD', sha256)).ok) return;
    const res = await this.request('PUT', sha256, bytes, type);
    if (!res.ok) throw new Error(`S3 PUT of evidence ${sha256} answered HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
  }

  async get(sha256: string): Promise<Buffer | undefined> {
    const res = await this.request('GET', sha256);
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`S3 GET of evidence ${sha256} answered HTTP ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  }
}

/** What a file's first bytes say it is; uploads whose content is not their declared type are refused. */
export function sniffType(bytes: Buffer): string | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  if (bytes.length >= 5 && bytes.toString('latin1', 0, 5) === '%PDF-') return 'application/pdf';
  return undefined;
}

export function createEvidenceStore(s: EvidenceSettings['store']): EvidenceStore {
  return s.kind === 's3' ? new S3EvidenceStore(s) : new LocalEvidenceStore(s.dir);
}

interface FileRow {
  workflow_id: string;
  sha256: string;
  name: string;
  type: string;
  size: number;
  uploaded_by: string;
  at: Date;
}

/**
 * Evidence files of processes: uploaded for one process (so they share its grid and role scoping),
 * checked for size and type, stored by SHA-256, and referenced from events by `{ sha256, name,
 * type, size }`. This module owns the `evidence_file` table.
 */
export class EvidenceService {
  constructor(
    private readonly orm: MikroORM,
    private readonly store: EvidenceStore,
    readonly settings: Pick<EvidenceSettings, 'maxBytes' | 'types'>,
  ) {}

  private conn() {
    return this.orm.em.getConnection();
  }

  /** Stores one file for `workflowId`; the same bytes again answer with the same reference. */
  async upload(workflowId: string, file: { bytes: Buffer; type: string; name: string }, by: string): Promise<EvidenceRef & { created: boolean }> {
    const type = file.type.split(';')[0].trim().toLowerCase();
    if (!this.settings.types.includes(type)) {
      throw new ProblemError(415, 'Unsupported Media Type', `evidence of type "${type || '(none)'}" is not accepted; send one of ${this.settings.types.join(', ')} as the Content-Type`);
    }
    if (file.bytes.length === 0) throw badRequest('the evidence file is empty; send the file as the request body');
    if (file.bytes.length > this.settings.maxBytes) throw tooLarge(this.settings.maxBytes);
    const sniffed = sniffType(file.bytes);
    if (sniffed !== type) {
      throw new ProblemError(415, 'Unsupported Media Type', `the file's content is ${sniffed ?? 'not a recognised image or PDF'}, not the declared "${type}"; send it with its own type (${this.settings.types.join(', ')})`);
    }
    const name = cleanName(file.name, type);
    const sha256 = crypto.createHash('sha256').update(file.bytes).digest('hex');
    await this.store.put(sha256, file.bytes, type);
    const rows = await this.conn().execute<FileRow[]>(
      `insert into evidence_file (workflow_id, sha256, name, type, size, uploaded_by, at) values (?, ?, ?, ?, ?, ?, now())
       on conflict (workflow_id, sha256) do nothing returning *`,
      [workflowId, sha256, name, type, file.bytes.length, by],
    );
    const row = rows[0] ?? (await this.row(workflowId, sha256));
    return { sha256, name: row?.name ?? name, type, size: file.bytes.length, created: rows.length > 0 };
  }

  private async row(workflowId: string, sha256: string): Promise<FileRow | undefined> {
    return (await this.conn().execute<FileRow[]>(`select * from evidence_file where workflow_id = ? and sha256 = ?`, [workflowId, sha256]))[0];
  }

  /** The files uploaded for a process, oldest first. */
  async list(workflowId: string) {
    const rows = await this.conn().execute<FileRow[]>(`select * from evidence_file where workflow_id = ? order by at, sha256`, [workflowId]);
    return rows.map((r) => ({ sha256: r.sha256, name: r.name, type: r.type, size: r.size, uploadedBy: r.uploaded_by, at: formatLocal(new Date(r.at).getTime(), DEFAULT_ZONE) }));
  }

  /** One file of a process; 404 when it was not uploaded for that process. */
  async download(workflowId: string, sha256: string): Promise<{ ref: EvidenceRef; bytes: Buffer }> {
    const row = /^[0-9a-f]{64}$/.test(sha256) ? await this.row(workflowId, sha256) : undefined;
    if (!row) throw notFound(`process "${workflowId}" has no evidence file ${sha256}`);
    const bytes = await this.store.get(sha256);
    if (!bytes) throw notFound(`evidence file ${sha256} of process "${workflowId}" is missing from the ${this.store.kind} store`);
    return { ref: { sha256, name: row.name, type: row.type, size: row.size }, bytes };
  }

  /**
   * The references an event sends, as stored for this process: each must have been uploaded for
   * it (a file of another process cannot be borrowed), and name, type and size are the stored ones.
   */
  async resolveRefs(workflowId: string, refs: unknown): Promise<unknown> {
    if (!Array.isArray(refs)) return refs;
    const resolved: unknown[] = [];
    for (const [i, ref] of refs.entries()) {
      const sha = (ref as { sha256?: unknown } | null)?.sha256;
      if (typeof sha !== 'string' || !/^[0-9a-f]{64}$/.test(sha)) {
        resolved.push(ref);
        continue;
      }
      const row = await this.row(workflowId, sha);
      if (!row) throw badRequest(`data.evidence.${i}: file ${sha} was not uploaded for process "${workflowId}"; upload it with POST /api/processes/${encodeURIComponent(workflowId)}/evidence first`, [{ path: `data.evidence.${i}.sha256`, message: 'not an evidence file of this process' }]);
      resolved.push({ sha256: row.sha256, name: row.name, type: row.type, size: row.size });
    }
    return resolved;
  }
}

export const tooLarge = (maxBytes: number) =>
  new ProblemError(413, 'Content Too Large', `the evidence file is larger than ${(maxBytes / 1024 / 1024).toFixed(maxBytes % (1024 * 1024) ? 1 : 0)} MB (GRIDFLOW_EVIDENCE_MAX_BYTES = ${maxBytes} bytes)`);

/** A display name without paths or control characters, with an extension that fits the type. */
function cleanName(name: string, type: string): string {
  const ext = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp', 'application/pdf': 'pdf' }[type] ?? 'bin';
  const base = path.basename(name || '').replace(/[\u0000-\u001f\u007f"\\/]/g, '').trim().slice(0, 150);
  return base || `evidence.${ext}`;
}
