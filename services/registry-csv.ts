import { localGrid } from '../engine/community';
import { REGISTRY_CATEGORIES, type VisitPeriod } from '../engine/schedule-fanout';
import type { EntryFields } from '../engine/registry-view';
import { isDate } from '../engine/time';

/**
 * Reading the special-population register from a CSV file as people keep it in Excel or WPS:
 * UTF-8 with or without a byte order mark, Chinese headers as they are usually typed (户号, 类别,
 * 网格, 姓名, 联系电话, 身份证号, 住址, 走访周期, 纳入日期, 状态), values in the forms people write
 * (第三网格, 每周, 2026/3/1, 在册). Every problem names its line, its column and what would do;
 * the caller writes nothing unless there are none. Pure: no database, no clock.
 */

export type RegistryField = 'household' | 'category' | 'grid' | 'name' | 'phone' | 'idNumber' | 'address' | 'cycle' | 'since' | 'status';

/** The header gridflow writes first, then the other spellings it accepts (compared without spaces, marks like * or （必填）, in lower case). */
export const REGISTRY_COLUMNS: Record<RegistryField, { header: string; aliases: string[]; required: boolean }> = {
  household: { header: '户号', aliases: ['户编号', '家庭户号', '家庭编号', '编号', 'household'], required: true },
  category: { header: '类别', aliases: ['人员类别', '人群类别', '对象类别', '类型', 'category'], required: true },
  grid: { header: '网格', aliases: ['所属网格', '网格编号', 'grid'], required: true },
  name: { header: '姓名', aliases: ['名字', 'name'], required: true },
  phone: { header: '联系电话', aliases: ['电话', '手机', '手机号', '手机号码', '联系方式', 'phone'], required: false },
  idNumber: { header: '身份证号', aliases: ['身份证号码', '身份证', '证件号码', 'idnumber'], required: false },
  address: { header: '住址', aliases: ['地址', '家庭住址', '居住地址', '现住址', 'address'], required: true },
  cycle: { header: '走访周期', aliases: ['周期', '走访频次', 'cycle'], required: false },
  since: { header: '纳入日期', aliases: ['登记日期', '建档日期', 'since'], required: false },
  status: { header: '状态', aliases: ['在册状态', 'status'], required: false },
};

export interface ImportRow extends EntryFields {
  /** The line the record starts on (the header is line 1). */
  line: number;
  /** Left empty: today for a new entry, unchanged for one already registered. */
  since: string | null;
  active: boolean;
}

export interface ImportError {
  /** The CSV line, or the worksheet's row. */
  line: number;
  /** The column's header as the file has it ('' for the whole line). */
  column: string;
  /** A worksheet's cell reference (E4), for Excel's name box; CSV has none. */
  cell?: string;
  /** `line 4, 联系电话` or `row 4, 联系电话 (E4)`: where, for clients that show only path and message. */
  path: string;
  message: string;
}

/** A record as a CSV file or a worksheet gives it: where it starts and its cells, first column first. */
export interface SourceRecord {
  line: number;
  cells: string[];
}

/** How a source names its places in errors: CSV lines and column numbers, or a sheet's rows and column letters. */
export interface RecordSource {
  unit: 'line' | 'row';
  /** `the file`, `the sheet "台账"`. */
  what: string;
  /** A column named by position, for one without a header: `column 5`, `column E`. */
  columnName(index: number): string;
  /** A cell's reference, where the source has them (E4). */
  cellRef?(index: number, line: number): string;
  /** Why a record with values past the header's last column is refused, and what to do. */
  extraCells(cells: string[], headerCount: number): string;
}

export const CSV_SOURCE: RecordSource = {
  unit: 'line',
  what: 'the file',
  columnName: (i) => `column ${i + 1}`,
  extraCells: (cells, n) => `the line has ${cells.length} cells and the header ${n}; a comma inside a value needs the value in double quotes`,
};

/** Where a field of a record is, as errors name it. */
export type Place = Pick<ImportError, 'line' | 'column' | 'cell' | 'path'>;

const CATEGORY_ALIASES: Record<string, string> = {
  低保户: '低保',
  城乡低保: '低保',
  最低生活保障: '低保',
  低收入户: '低收入',
  特困人员: '特困',
  特困供养: '特困',
  散居特困: '特困',
  分散供养特困: '特困',
  独居: '独居老人',
  独居老年人: '独居老人',
  空巢: '空巢老人',
  空巢留守老人: '空巢老人',
  留守: '留守儿童',
  残疾: '残疾人',
  残疾人员: '残疾人',
};

const CYCLES: Record<string, VisitPeriod> = {
  每周: 'weekly',
  周: 'weekly',
  每周一次: 'weekly',
  一周一次: 'weekly',
  weekly: 'weekly',
  每月: 'monthly',
  月: 'monthly',
  每月一次: 'monthly',
  一月一次: 'monthly',
  monthly: 'monthly',
};

const ACTIVE: Record<string, boolean> = { 在册: true, 正常: true, 有效: true, 是: true, active: true, 退出: false, 已退出: false, 注销: false, 已注销: false, 停止: false, 否: false, inactive: false };

const NUMERALS = ['一', '二', '三', '四', '五', '六', '七', '八', '九', '十', '十一', '十二', '十三', '十四', '十五', '十六', '十七', '十八', '十九', '二十'];

export const HOUSEHOLD = /^[A-Za-z0-9][A-Za-z0-9-]{0,49}$/;
const MOBILE = /^1[3-9]\d{9}$/;
const LANDLINE = /^0\d{2,3}-?\d{7,8}$/;
/** What Excel makes of a long number in a General column: 1.38123E+10. */
const SCIENTIFIC = /^\d(\.\d+)?e\+?\d+$/i;

const squash = (s: string) =>
  s
    .replace(/^\uFEFF/, '')
    .replace(/[\s\u3000]+/g, '')
    .replace(/[*＊]/g, '')
    .replace(/[（(]必填[)）]|[（(]选填[)）]/g, '')
    .toLowerCase();

/**
 * The file's text, or why it cannot be read: an Excel workbook (a zip, read by registry-xlsx.ts when sent as one) or text that is not UTF-8
 * (Excel's plain "CSV (逗号分隔)" saves GBK). A byte order mark is dropped.
 */
export function decodeCsv(bytes: Uint8Array): { text: string } | { problem: string } {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) {
    return { problem: 'this is an Excel workbook sent as CSV; send it with Content-Type application/vnd.openxmlformats-officedocument.spreadsheetml.sheet (the console does for a .xlsx file), or in Excel or WPS save it as "CSV UTF-8 (逗号分隔)" and upload that file' };
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    if (text.includes('\u0000')) return { problem: 'the file holds NUL characters, which no CSV text has; save it again as "CSV UTF-8 (逗号分隔)"' };
    return { text };
  } catch {
    return { problem: 'the file is not UTF-8 text (Excel\'s "CSV (逗号分隔)" saves GBK); save it as "CSV UTF-8 (逗号分隔)" in Excel, or choose UTF-8 encoding in WPS, and upload it again' };
  }
}

/** RFC 4180 records with the line each starts on; quoted cells may hold commas, quotes and line breaks. */
export function parseCsv(text: string): { line: number; cells: string[] }[] {
  const records: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let touched = false;
  const endRecord = () => {
    cells.push(cell);
    // A line with nothing on it (often the last) is no record.
    if (touched || cells.length > 1) records.push({ line: start, cells });
    cells = [];
    cell = '';
    touched = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else if (c === '\r' && text[i + 1] === '\n') continue;
      else {
        if (c === '\n') line++;
        cell += c;
      }
      continue;
    }
    if (c === '"' && cell === '') {
      quoted = true;
      touched = true;
    } else if (c === ',') {
      cells.push(cell);
      cell = '';
      touched = true;
    } else if (c === '\r' && text[i + 1] === '\n') continue;
    else if (c === '\n' || c === '\r') {
      endRecord();
      line++;
      start = line;
    } else {
      cell += c;
      touched = true;
    }
  }
  if (touched || cell !== '' || cells.length) endRecord();
  return records;
}

/** A date as people type it (2026-03-01, 2026/3/1, 2026.3.1, 2026年3月1日) as YYYY-MM-DD, or undefined. */
export function normalizeDate(text: string): string | undefined {
  const m = /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$/.exec(text.trim());
  if (!m) return undefined;
  const d = `${m[1]}-${m[2].padStart(2, '0')}-${m[3].padStart(2, '0')}`;
  return isDate(d) ? d : undefined;
}

/** Whether an 18-character resident ID number's check character fits (GB 11643-1999). */
export function idNumberValid(id: string): boolean {
  if (!/^\d{17}[\dX]$/.test(id)) return false;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = weights.reduce((n, w, i) => n + w * Number(id[i]), 0);
  return '10X98765432'[sum % 11] === id[17];
}

/** A mobile (spaces and dashes dropped) or a landline with its area code, or why it is neither. */
export function normalizePhone(raw: string): { value: string } | { problem: string } {
  const text = raw.trim();
  if (SCIENTIFIC.test(text)) return { problem: `"${text}" is a number the spreadsheet shortened; format the column as text and type the number again` };
  const digits = text.replace(/[\s-]/g, '');
  if (MOBILE.test(digits)) return { value: digits };
  if (LANDLINE.test(text.replace(/\s/g, ''))) return { value: text.replace(/\s/g, '') };
  return { problem: `"${text}" is not a phone number; use 11 digits of a mobile (13812345678) or a landline with its area code (0871-1234567)` };
}

/** An 18-character resident ID number (a lower-case x made upper), or why it is not one. */
export function normalizeIdNumber(raw: string): { value: string } | { problem: string } {
  const id = raw.trim().toUpperCase();
  if (SCIENTIFIC.test(id)) return { problem: `"${id}" is a number the spreadsheet shortened; format the column as text and type the ID number again` };
  if (!/^\d{17}[\dX]$/.test(id)) return { problem: `an ID number has 18 characters, digits with a last digit or X (got ${id.length} characters)` };
  if (!idNumberValid(id)) return { problem: 'the ID number\'s last character does not match the others (GB 11643 check digit); check it for a typing error' };
  return { value: id };
}

/** A grid as people name it: grid-03, 3, 03, 第三网格, 第3网格, 三网格, 网格3, or the grid's name. */
export function gridFrom(text: string, grids: { id: string; name: string }[]): string | undefined {
  const t = text.trim();
  const byId = grids.find((g) => g.id === t.toLowerCase() || g.name === t);
  if (byId) return byId.id;
  const m = /^(?:第)?(\d{1,2}|[一二三四五六七八九十]+)(?:号)?(?:网格)?$/.exec(t) ?? /^网格(\d{1,2})$/.exec(t);
  if (!m) return undefined;
  const n = /^\d+$/.test(m[1]) ? Number(m[1]) : NUMERALS.indexOf(m[1]) + 1;
  // A bare number is a grid only as a whole cell (3, 03) or with 网格 around it.
  const id = `grid-${String(n).padStart(2, '0')}`;
  // The grid of that number among those listed (its key names its community outside the default one).
  return grids.find((g) => localGrid(g.id) === id)?.id;
}

export type RegistryContext = { grids: { id: string; name: string }[]; mayImport: (grid: string) => boolean; yours?: string[] };

export interface RegistryRead {
  rows: ImportRow[];
  errors: ImportError[];
  /** Where a field of a line or row is, for problems found later (against the register). */
  at(line: number, field: RegistryField): Place;
  unit: RecordSource['unit'];
}

/**
 * The rows of a register file, or every problem in it. `grids` are the community's (for names and
 * numbers) and `mayImport` says whether the caller may write a grid's entries.
 */
export function readRegistryCsv(text: string, ctx: RegistryContext): RegistryRead {
  return readRegistryRecords(parseCsv(text), ctx, CSV_SOURCE);
}

/**
 * The rows of a register's records, CSV lines or worksheet rows, or every problem in them: the
 * same header, values and checks whichever file they came from; only the names of places differ.
 */
export function readRegistryRecords(records: SourceRecord[], ctx: RegistryContext, src: RecordSource): RegistryRead {
  const { unit } = src;
  const errors: ImportError[] = [];
  const place = (line: number, column: string, index?: number): Place => {
    const cell = index === undefined ? undefined : src.cellRef?.(index, line);
    return { line, column, ...(cell ? { cell } : {}), path: `${unit} ${line}${column ? `, ${column}` : ''}${cell ? ` (${cell})` : ''}` };
  };
  const fail = (line: number, column: string, message: string, index?: number) => errors.push({ ...place(line, column, index), message });
  const columns = new Map<RegistryField, number>();
  let headers: string[] = [];
  const col = (f: RegistryField) => headers[columns.get(f) as number] ?? REGISTRY_COLUMNS[f].header;
  const at = (line: number, f: RegistryField) => place(line, col(f), columns.get(f));
  if (!records.length) {
    fail(1, '', `${src.what} is empty; the first ${unit} names the columns: ${Object.values(REGISTRY_COLUMNS).map((c) => c.header).join(',')}`);
    return { rows: [], errors, at, unit };
  }
  // --- The header -------------------------------------------------------------------------------
  const [head, ...body] = records;
  headers = head.cells.map((h) => h.replace(/^\uFEFF/, '').trim());
  const known = Object.values(REGISTRY_COLUMNS).map((c) => c.header).join(', ');
  headers.forEach((h, i) => {
    const key = squash(h);
    if (key === '') {
      fail(head.line, src.columnName(i), `${src.columnName(i)} has no header; name it (${known}) or delete the column`, i);
      return;
    }
    const field = (Object.keys(REGISTRY_COLUMNS) as RegistryField[]).find((f) => squash(REGISTRY_COLUMNS[f].header) === key || REGISTRY_COLUMNS[f].aliases.some((a) => squash(a) === key));
    if (!field) {
      fail(head.line, h, `column "${h}" is not one the register keeps; known columns: ${known} (delete it, or rename it to one of these)`, i);
    } else if (columns.has(field)) {
      fail(head.line, h, `column "${h}" repeats "${headers[columns.get(field) as number]}" (both are ${REGISTRY_COLUMNS[field].header}); keep one`, i);
    } else columns.set(field, i);
  });
  for (const [field, c] of Object.entries(REGISTRY_COLUMNS) as [RegistryField, (typeof REGISTRY_COLUMNS)[RegistryField]][]) {
    if (c.required && !columns.has(field)) fail(head.line, '', `the column ${c.header} is missing; the register needs ${Object.values(REGISTRY_COLUMNS).filter((x) => x.required).map((x) => x.header).join(', ')}`);
  }
  if (errors.length) return { rows: [], errors, at, unit };

  // --- The rows ---------------------------------------------------------------------------------
  const rows: ImportRow[] = [];
  const firstLine = new Map<string, number>();
  const gridOfHousehold = new Map<string, { grid: string; line: number }>();
  for (const rec of body) {
    const cell = (f: RegistryField) => (columns.has(f) ? (rec.cells[columns.get(f) as number] ?? '').trim() : '');
    if (rec.cells.every((c) => c.trim() === '')) continue;
    if (rec.cells.length > headers.length && rec.cells.slice(headers.length).some((c) => c.trim() !== '')) {
      fail(rec.line, '', src.extraCells(rec.cells, headers.length));
      continue;
    }
    const before = errors.length;
    // Each problem of a field names its column's header (and, in a sheet, its cell).
    const bad = (f: RegistryField, message: string) => errors.push({ ...at(rec.line, f), message });
    const household = cell('household');
    if (!household) bad('household', `${col('household')} is empty; every entry needs the household number`);
    else if (!HOUSEHOLD.test(household)) bad('household', `"${household}" is not a household number gridflow can use: letters, digits and "-", at most 50 (it names the household's visit rounds, e.g. care-visit/XD-0301/2026-W49); keep the address in ${REGISTRY_COLUMNS.address.header}`);

    const rawCategory = cell('category');
    const category = (REGISTRY_CATEGORIES as readonly string[]).includes(rawCategory) ? rawCategory : CATEGORY_ALIASES[rawCategory];
    if (!rawCategory) bad('category', `${col('category')} is empty; use one of ${REGISTRY_CATEGORIES.join(', ')}`);
    else if (!category) bad('category', `"${rawCategory}" is not a category of the register; use one of ${REGISTRY_CATEGORIES.join(', ')}`);

    const rawGrid = cell('grid');
    const grid = rawGrid ? gridFrom(rawGrid, ctx.grids) : undefined;
    if (!rawGrid) bad('grid', `${col('grid')} is empty; use the grid's number or name, e.g. 3 or 第三网格 or grid-03`);
    else if (!grid) bad('grid', `"${rawGrid}" is no grid of the community; use a number from 1 to ${ctx.grids.length}, a name like ${ctx.grids[0]?.name ?? '第一网格'}, or an id like grid-01`);
    else if (!ctx.mayImport(grid)) bad('grid', `${grid} is not one of your grids (${(ctx.yours ?? []).join(', ') || 'none'}); a manager imports other grids' entries`);

    const name = cell('name');
    if (!name) bad('name', `${col('name')} is empty; every entry needs the person's name`);
    else if (name.length > 50) bad('name', `the name has ${name.length} characters; at most 50`);

    const phone = cell('phone') ? normalizePhone(cell('phone')) : { value: null };
    if ('problem' in phone) bad('phone', phone.problem);
    const idNumber = cell('idNumber') ? normalizeIdNumber(cell('idNumber')) : { value: null };
    if ('problem' in idNumber) bad('idNumber', idNumber.problem);

    const address = cell('address');
    if (!address) bad('address', `${col('address')} is empty; the visit needs the address`);
    else if (address.length > 200) bad('address', `the address has ${address.length} characters; at most 200`);

    const rawCycle = cell('cycle');
    const cycle = rawCycle ? CYCLES[rawCycle.toLowerCase()] : null;
    if (rawCycle && !cycle) bad('cycle', `"${rawCycle}" is not a visit cycle; use 每周 or 每月, or leave it empty for the cycle the definition gives the category`);

    const rawSince = cell('since');
    const since = rawSince ? normalizeDate(rawSince) : null;
    if (rawSince && !since) bad('since', `"${rawSince}" is not a date; use 2026-03-01 (or 2026/3/1, 2026年3月1日)`);

    const rawStatus = cell('status');
    const active = rawStatus ? ACTIVE[rawStatus.toLowerCase()] : true;
    if (rawStatus && active === undefined) bad('status', `"${rawStatus}" is not a status; use 在册 or 退出 (leave it empty for 在册)`);

    if (household && category) {
      const key = `${household}\u0000${category}`;
      const earlier = firstLine.get(key);
      if (earlier !== undefined) bad('household', `household ${household} is listed as ${category} on ${unit} ${earlier} already; keep one ${unit} per household and category`);
      else firstLine.set(key, rec.line);
    }
    if (household && grid) {
      const seen = gridOfHousehold.get(household);
      if (seen && seen.grid !== grid) bad('grid', `household ${household} is in ${seen.grid} on ${unit} ${seen.line}; a household belongs to one grid`);
      else if (!seen) gridOfHousehold.set(household, { grid, line: rec.line });
    }
    if (errors.length === before) {
      rows.push({ line: rec.line, household, category: category as string, grid: grid as string, name, phone: (phone as { value: string | null }).value, idNumber: (idNumber as { value: string | null }).value, address, cycle: cycle ?? null, since: since ?? null, active: active as boolean });
    }
  }
  if (!body.length || (!rows.length && !errors.length)) fail(head.line + 1, '', `${src.what} has a header but no entries`);
  return { rows, errors, at, unit };
}
