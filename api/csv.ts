import type { Response } from 'express';
import { formatLocal } from '../engine/time';

/** Makes Excel and WPS read the file as UTF-8; without it Chinese text opens as mojibake. */
const BOM = '\uFEFF';
const EOL = '\r\n';

/**
 * A cell that starts like a formula would run as one when the file is opened in a spreadsheet
 * (CSV injection); text such cells carry (titles, notes typed by residents) is kept as text.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return formatLocal(v.getTime());
  if (typeof v === 'string') return FORMULA_START.test(v) ? `'${v}` : v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

function quote(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Rows as RFC 4180 CSV (CRLF, double-quoted where needed) with a UTF-8 BOM. The columns are
 * `columns`, or every key of the rows in first-seen order; objects and arrays are JSON, null is empty.
 */
export function toCsv(rows: Record<string, unknown>[], columns?: string[]): string {
  const cols = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const lines = [cols.map(quote).join(',')];
  for (const row of rows) lines.push(cols.map((c) => quote(cellText(row[c]))).join(','));
  return BOM + lines.join(EOL) + EOL;
}

/** RFC 5987 `ext-value`: percent-encodes everything but attr-chars. */
function rfc5987(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Sends `rows` as a CSV download. `filename` may be Chinese: it goes in `filename*` (RFC 6266),
 * with an ASCII `filename` for clients that do not read it. A paged list passes its `nextCursor`,
 * which is sent as the `X-Next-Cursor` header (a CSV body has no place for it).
 */
export function sendCsv(res: Response, filename: string, rows: Record<string, unknown>[], opts: { columns?: string[]; nextCursor?: string | null } = {}): void {
  const ascii = filename.replace(/[^\x20-\x7E]|["\\]/g, '_');
  res.status(200);
  res.set({
    'Content-Type': 'text/csv; charset=utf-8',
    'Content-Disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${rfc5987(filename)}`,
  });
  if (opts.nextCursor) res.set('X-Next-Cursor', opts.nextCursor);
  res.send(toCsv(rows, opts.columns));
}
