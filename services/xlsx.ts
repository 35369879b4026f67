import zlib from 'node:zlib';

/**
 * The first worksheet of an Excel workbook (.xlsx: a zip of XML parts) as rows of text, as a person
 * reads them: shared and inline strings, numbers as Excel stores them (13812345678, 1.1E+17), a
 * number in a date format as YYYY-MM-DD, booleans as TRUE/FALSE, a formula's last value. Pure: bytes
 * in, rows out. Every part is inflated under a cap, so a small zip that would inflate to gigabytes
 * (a zip bomb) is refused before it is.
 */

export interface SheetRow {
  /** The row number Excel shows (1 for the first). */
  row: number;
  /** From column A to the row's last non-empty cell; '' where a cell is empty. */
  cells: string[];
}

export interface Worksheet {
  name: string;
  rows: SheetRow[];
}

export const XLSX_LIMITS = {
  /** Inflated bytes of one part: a 5,000-row register's sheet is about 2 MB. */
  partBytes: 16 << 20,
  /** Inflated bytes of all the parts read. */
  totalBytes: 32 << 20,
  /** Cells from A to each row's last value, summed: a value in column XFD of every row would be millions. */
  cells: 1_000_000,
};

class WorkbookProblem extends Error {}

const XLSX_HOW = 'in Excel or WPS save it as "Excel 工作簿 (*.xlsx)" and upload that file';

/** The workbook's first visible worksheet, or why it cannot be read. */
export function readFirstWorksheet(bytes: Uint8Array, limits = XLSX_LIMITS): Worksheet | { problem: string } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.subarray(0, 8).equals(Buffer.from('d0cf11e0a1b11ae1', 'hex'))) {
    return { problem: `this is an Excel 97-2003 workbook (.xls) or a workbook with a password, which gridflow does not read; remove any password, ${XLSX_HOW}` };
  }
  if (buf.length < 22 || buf.readUInt32LE(0) !== 0x04034b50) {
    return { problem: `the file is not an Excel workbook (.xlsx is a zip, starting "PK"); ${XLSX_HOW}, or send a CSV file as text/csv` };
  }
  try {
    return new Workbook(buf, limits).firstWorksheet();
  } catch (e) {
    if (e instanceof WorkbookProblem) return { problem: e.message };
    throw e;
  }
}

// --- The zip --------------------------------------------------------------------------------------

interface ZipEntry {
  flags: number;
  method: number;
  compressedSize: number;
  size: number;
  offset: number;
}

function centralDirectory(buf: Buffer): Map<string, ZipEntry> {
  const corrupt = () => new WorkbookProblem(`the workbook is damaged (its zip directory cannot be read); open it in Excel or WPS, ${XLSX_HOW}`);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw corrupt();
  const count = buf.readUInt16LE(eocd + 10);
  const start = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || start === 0xffffffff) throw new WorkbookProblem(`the workbook is a ZIP64 archive, which no workbook under the upload limit needs; ${XLSX_HOW}`);
  const entries = new Map<string, ZipEntry>();
  let p = start;
  for (let n = 0; n < count; n++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50) throw corrupt();
    const nameLength = buf.readUInt16LE(p + 28);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLength);
    // Part names are case-insensitive (ECMA-376 part 2).
    entries.set(name.toLowerCase(), {
      flags: buf.readUInt16LE(p + 8),
      method: buf.readUInt16LE(p + 10),
      compressedSize: buf.readUInt32LE(p + 20),
      size: buf.readUInt32LE(p + 24),
      offset: buf.readUInt32LE(p + 42),
    });
    p += 46 + nameLength + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);
  }
  return entries;
}

// --- XML, as far as a worksheet needs it -------------------------------------------------------------

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const codePoint = (n: number) => (n <= 0x10ffff ? String.fromCodePoint(n) : '\uFFFD');

/** XML text to a string, then OOXML's own escape of control characters (_x000D_, and _x005F_ for "_"). */
function text(xml: string): string {
  return xml
    .replace(/&(#x[0-9a-f]+|#\d+|lt|gt|amp|quot|apos);/gi, (_, e: string) =>
      e[0] === '#' ? codePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1))) : ENTITIES[e.toLowerCase()],
    )
    .replace(/_x([0-9a-f]{4})_/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

const attr = (tag: string, name: string): string | undefined => {
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(tag);
  return m ? text(m[1] ?? m[2]) : undefined;
};

/** Elements `<name ...>...</name>` or `<name .../>`, with or without a namespace prefix (x:c). */
function* elements(xml: string, name: string): Generator<{ attrs: string; body: string }> {
  const re = new RegExp(`<(?:[\\w.-]+:)?${name}(?=[\\s/>])([^>]*?)(?:/>|>([\\s\\S]*?)</(?:[\\w.-]+:)?${name}>)`, 'g');
  for (const m of xml.matchAll(re)) yield { attrs: m[1], body: m[2] ?? '' };
}

/** A string item's text: its runs joined, without the phonetic guide (rPh) some East Asian files carry. */
const stringItem = (body: string) =>
  [...elements(body.replace(/<(?:[\w.-]+:)?rPh[\s>][\s\S]*?<\/(?:[\w.-]+:)?rPh>/g, ''), 't')].map((t) => text(t.body)).join('');

// --- Dates ----------------------------------------------------------------------------------------

/** Built-in number formats that show a date (14-17, 22, and the East Asian ones 27-31, 34-36, 50-58). */
const DATE_FORMATS = new Set([14, 15, 16, 17, 22, 27, 28, 29, 30, 31, 34, 35, 36, 50, 51, 52, 53, 54, 55, 56, 57, 58]);

/** Whether a custom format shows a date: a d or y outside quoted text, escapes and [brackets]. */
export const isDateFormat = (code: string) => /[dy]/i.test(code.replace(/"[^"]*"|\\.|\[[^\]]*\]|[_*]./g, ''));

/** A serial day number as YYYY-MM-DD (with the time when it has one), in the 1900 or 1904 system. */
export function serialDate(serial: number, date1904 = false): string {
  // Excel's 1900 system counts a 29 February 1900 that never was (serial 60).
  const epoch = date1904 ? Date.UTC(1904, 0, 1) : serial < 60 ? Date.UTC(1899, 11, 31) : Date.UTC(1899, 11, 30);
  const ms = epoch + Math.round(serial * 86_400_000);
  const iso = new Date(ms).toISOString();
  return ms % 86_400_000 === 0 ? iso.slice(0, 10) : iso.slice(0, 16).replace('T', ' ');
}

// --- The workbook ---------------------------------------------------------------------------------

const columnIndex = (ref: string) => [...ref].reduce((n, c) => n * 26 + c.charCodeAt(0) - 64, 0) - 1;

/** A column's letters as Excel shows them: 0 is A, 26 is AA. */
export function columnLetter(index: number): string {
  let s = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

class Workbook {
  private readonly entries: Map<string, ZipEntry>;
  private inflated = 0;

  constructor(
    private readonly buf: Buffer,
    private readonly limits: typeof XLSX_LIMITS,
  ) {
    this.entries = centralDirectory(buf);
  }

  firstWorksheet(): Worksheet {
    const main = this.target('', this.relationships('_rels/.rels'), 'officeDocument') ?? 'xl/workbook.xml';
    const workbook = this.part(main);
    if (workbook === undefined) throw new WorkbookProblem(`the zip holds no workbook (${main}); it may be another kind of document; ${XLSX_HOW}`);
    const dir = main.slice(0, main.lastIndexOf('/') + 1);
    const rels = this.relationships(`${dir}_rels/${main.slice(dir.length)}.rels`);
    const date1904 = /^(1|true)$/.test(attr([...elements(workbook, 'workbookPr')][0]?.attrs ?? '', 'date1904') ?? '');

    // The first sheet in tab order that is a worksheet (not a chart) and not hidden.
    const sheet = [...elements(workbook, 'sheet')]
      .map(({ attrs }) => ({ name: attr(attrs, 'name') ?? '', state: attr(attrs, 'state'), rel: rels.find((r) => r.id === attr(attrs, '(?:[\\w.-]+:)?id')) }))
      .find((s) => s.rel?.type.endsWith('/worksheet') && (s.state ?? 'visible') === 'visible');
    if (!sheet?.rel) throw new WorkbookProblem(`the workbook has no visible worksheet; show the sheet with the register (右键 → 取消隐藏) and upload it again`);
    const xml = this.part(resolve(dir, sheet.rel.target));
    if (xml === undefined) throw new WorkbookProblem(`the workbook names a worksheet "${sheet.name}" that it does not hold; it is damaged: ${XLSX_HOW}`);

    const sharedPath = this.target(dir, rels, 'sharedStrings');
    const shared = sharedPath ? [...elements(this.part(sharedPath) ?? '', 'si')].map((si) => stringItem(si.body)) : [];
    const stylesPath = this.target(dir, rels, 'styles');
    const dateStyles = stylesPath ? dateStylesOf(this.part(stylesPath) ?? '') : new Set<number>();
    return { name: sheet.name, rows: this.rows(xml, { shared, dateStyles, date1904, sheet: sheet.name }) };
  }

  private rows(xml: string, ctx: { shared: string[]; dateStyles: Set<number>; date1904: boolean; sheet: string }): SheetRow[] {
    const data = /<(?:[\w.-]+:)?sheetData[\s>][\s\S]*<\/(?:[\w.-]+:)?sheetData>/.exec(xml)?.[0] ?? '';
    const rows: SheetRow[] = [];
    let cellCount = 0;
    let rowNumber = 0;
    for (const row of elements(data, 'row')) {
      rowNumber = Number(attr(row.attrs, 'r') ?? rowNumber + 1);
      const cells: string[] = [];
      let col = -1;
      for (const c of elements(row.body, 'c')) {
        const ref = attr(c.attrs, 'r');
        col = ref ? columnIndex(/^[A-Z]+/i.exec(ref)?.[0].toUpperCase() ?? 'A') : col + 1;
        const value = cellValue(c, ctx, `${columnLetter(col)}${rowNumber}`);
        if (value === '') continue;
        cellCount += Math.max(0, col + 1 - cells.length);
        if (cellCount > this.limits.cells) {
          throw new WorkbookProblem(`the sheet "${ctx.sheet}" spans more than ${this.limits.cells.toLocaleString('en')} cells (row ${rowNumber} reaches column ${columnLetter(col)}); delete the rows and columns the register does not use`);
        }
        while (cells.length < col) cells.push('');
        cells[col] = value;
      }
      if (cells.length) rows.push({ row: rowNumber, cells });
    }
    return rows;
  }

  private relationships(path: string): { id: string; type: string; target: string }[] {
    return [...elements(this.part(path) ?? '', 'Relationship')].map(({ attrs }) => ({ id: attr(attrs, 'Id') ?? '', type: attr(attrs, 'Type') ?? '', target: attr(attrs, 'Target') ?? '' }));
  }

  private target(dir: string, rels: { type: string; target: string }[], type: string): string | undefined {
    const rel = rels.find((r) => r.type.endsWith(`/${type}`));
    return rel && resolve(dir, rel.target);
  }

  /** A part's text, inflated under the caps; undefined when the zip has no such part. */
  private part(path: string): string | undefined {
    const entry = this.entries.get(path.toLowerCase());
    if (!entry) return undefined;
    if (entry.flags & 1) throw new WorkbookProblem(`the workbook is encrypted; remove its password, ${XLSX_HOW}`);
    const cap = Math.min(this.limits.partBytes, this.limits.totalBytes - this.inflated);
    const size = cap >= 1 << 20 ? `${cap >> 20} MB` : `${cap} bytes`;
    const tooBig = () => new WorkbookProblem(`the workbook's part ${path} inflates to more than ${size}; a register this large does not fit one upload: split it into several files`);
    if (entry.size > cap) throw tooBig();
    const at = entry.offset;
    if (at + 30 > this.buf.length || this.buf.readUInt32LE(at) !== 0x04034b50) throw new WorkbookProblem(`the workbook is damaged (part ${path}); open it in Excel or WPS, ${XLSX_HOW}`);
    const start = at + 30 + this.buf.readUInt16LE(at + 26) + this.buf.readUInt16LE(at + 28);
    const raw = this.buf.subarray(start, start + entry.compressedSize);
    if (raw.length < entry.compressedSize) throw new WorkbookProblem(`the workbook is cut short (part ${path}); upload the whole file`);
    let out: Buffer;
    if (entry.method === 0) out = raw;
    else if (entry.method === 8) {
      try {
        // The declared size may lie: maxOutputLength is what holds.
        out = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(cap, 1) });
      } catch (e) {
        if (e instanceof RangeError || (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooBig();
        throw new WorkbookProblem(`the workbook is damaged (part ${path} does not inflate); open it in Excel or WPS, ${XLSX_HOW}`);
      }
    } else throw new WorkbookProblem(`the workbook's part ${path} is compressed with method ${entry.method}, which xlsx files do not use; ${XLSX_HOW}`);
    if (out.length > cap) throw tooBig();
    this.inflated += out.length;
    return out.toString('utf8');
  }
}

/** A relationship's target as a zip path: relative to the part's folder, or from the root with "/". */
function resolve(dir: string, target: string): string {
  const parts = (target.startsWith('/') ? target.slice(1) : dir + target).split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '..') out.pop();
    else if (p !== '.' && p !== '') out.push(p);
  }
  return out.join('/');
}

/** The indexes of cell styles (cellXfs) whose number format shows a date. */
function dateStylesOf(styles: string): Set<number> {
  const custom = new Map([...elements(styles, 'numFmt')].map(({ attrs }) => [Number(attr(attrs, 'numFmtId')), attr(attrs, 'formatCode') ?? '']));
  const xfs = /<(?:[\w.-]+:)?cellXfs[\s>][\s\S]*?<\/(?:[\w.-]+:)?cellXfs>/.exec(styles)?.[0] ?? '';
  const dates = new Set<number>();
  [...elements(xfs, 'xf')].forEach(({ attrs }, i) => {
    const id = Number(attr(attrs, 'numFmtId') ?? 0);
    if (DATE_FORMATS.has(id) || (custom.has(id) && isDateFormat(custom.get(id) as string))) dates.add(i);
  });
  return dates;
}

function cellValue(c: { attrs: string; body: string }, ctx: { shared: string[]; dateStyles: Set<number>; date1904: boolean }, ref: string): string {
  const type = attr(c.attrs, 't') ?? 'n';
  if (type === 'inlineStr') return stringItem([...elements(c.body, 'is')][0]?.body ?? '');
  const v = [...elements(c.body, 'v')][0];
  if (!v) return '';
  const raw = text(v.body);
  switch (type) {
    case 's': {
      const s = ctx.shared[Number(raw)];
      if (s === undefined) throw new WorkbookProblem(`cell ${ref} names shared string ${raw}, which the workbook does not hold; it is damaged: ${XLSX_HOW}`);
      return s;
    }
    case 'b':
      return raw === '1' ? 'TRUE' : 'FALSE';
    case 'd':
      // An ISO 8601 date cell (strict OOXML): the day, with the time if it has one.
      return /T00:00(:00(\.0+)?)?Z?$/.test(raw) ? raw.slice(0, 10) : raw.replace('T', ' ').slice(0, 16);
    case 'n': {
      const style = Number(attr(c.attrs, 's') ?? 0);
      const n = Number(raw);
      if (raw === '' || !Number.isFinite(n)) return raw;
      if (ctx.dateStyles.has(style) && n >= 0) return serialDate(n, ctx.date1904);
      // Past 15 digits a double has lost some (an ID number typed as a number): say so as Excel does, 1.1E+17.
      return Math.abs(n) >= 1e15 && !/e/i.test(raw) ? n.toExponential().toUpperCase() : raw;
    }
    default:
      // str (a formula's text) and e (#N/A, #VALUE!): as the sheet shows them.
      return raw;
  }
}
