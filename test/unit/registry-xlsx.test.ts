import { readRegistryCsv } from '../../services/registry-csv';
import { readRegistryXlsx } from '../../services/registry-xlsx';
import { xlsx, type Cell } from '../support/xlsx';

const GRIDS = Array.from({ length: 12 }, (_, i) => ({ id: `grid-${String(i + 1).padStart(2, '0')}`, name: `第${['一', '二', '三', '四', '五', '六', '七', '八', '九', '十', '十一', '十二'][i]}网格` }));
const everywhere = { grids: GRIDS, mayImport: () => true };
const HEADER = ['户号', '类别', '网格', '姓名', '联系电话', '身份证号', '住址', '走访周期', '纳入日期', '状态'];

const read = (rows: Cell[][], name = '台账') => {
  const r = readRegistryXlsx(xlsx([{ name, rows }]), everywhere);
  if ('problem' in r) throw new Error(r.problem);
  return r;
};

describe('reading the register from an Excel workbook', () => {
  test('a workbook and the CSV of the same rows read to the same entries: numbers, dates in a date format and text alike', () => {
    const csv = [
      HEADER.join(','),
      'XD-0301,独居老人,第十一网格,张三,13812345678,11010519491231002X,"信达家园3号楼, 2单元101",每周,2026-03-01,在册',
      'XD-0302,散居特困,11,李四,0871-1234567,,信达家园5号楼,,2026/3/15,',
      'XD-0303,低保,grid-12,王五,,,光源小区8号,每月,,退出',
    ].join('\r\n');
    const sheet: Cell[][] = [
      HEADER,
      // The phone a number, the date a serial number in a yyyy/m/d format, as Excel keeps what was typed.
      ['XD-0301', '独居老人', '第十一网格', '张三', 13812345678, '11010519491231002X', '信达家园3号楼, 2单元101', '每周', { date: '2026-03-01' }, '在册'],
      ['XD-0302', '散居特困', 11, '李四', '0871-1234567', null, '信达家园5号楼', null, '2026/3/15', null],
      [],
      ['XD-0303', { inline: '低保' }, 'grid-12', '王五', null, null, '光源小区8号', '每月', null, '退出'],
    ];
    const fromCsv = readRegistryCsv(csv, everywhere);
    const fromXlsx = read(sheet);
    expect(fromCsv.errors).toEqual([]);
    expect(fromXlsx.errors).toEqual([]);
    // Row 4 of the sheet is empty, so the third entry is on row 5 and line 4.
    const withoutLine = (rows: typeof fromCsv.rows) => rows.map(({ line: _, ...r }) => r);
    expect(withoutLine(fromXlsx.rows)).toEqual(withoutLine(fromCsv.rows));
    expect(fromXlsx.rows.map((r) => r.line)).toEqual([2, 3, 5]);
    expect(fromXlsx.rows[0]).toMatchObject({ phone: '13812345678', since: '2026-03-01', cycle: 'weekly' });
  });

  test('each bad cell is named by the sheet\'s row, its header and its cell, with what would do; no row of a bad sheet is kept', () => {
    const { rows, errors, sheet } = read(
      [
        [],
        HEADER,
        // An ID number typed as a number: the workbook kept 15 digits of it, and says so as Excel does (1.1E+17).
        ['XD-0401', '独居老人', 11, '赵六', 13812345678, 110105194912310020, '信达家园1号', null, 46082, null],
        ['XD-0402', '孤寡老人', 11, '钱七', '12345', null, '信达家园2号', '每天', '2026-02-30', '暂停'],
        ['XD-0403', '低保', 11, '孙八', null, null, '信达家园4号', null, null, null, null, '腿脚不便'],
        ['XD-0403', '低保', 11, '孙八', null, null, '信达家园4号', null, null, null],
        ['XD-0403', '低保', 11, '孙八', null, null, '信达家园4号', null, null, null],
      ],
      '2026年台账',
    );
    expect(sheet).toBe('2026年台账');
    expect(errors.map((e) => `${e.path}: ${e.message}`)).toEqual([
      'row 3, 身份证号 (F3): "1.1010519491231002E+17" is a number the spreadsheet shortened; format the column as text and type the ID number again',
      'row 3, 纳入日期 (I3): "46082" is not a date; use 2026-03-01 (or 2026/3/1, 2026年3月1日)',
      'row 4, 类别 (B4): "孤寡老人" is not a category of the register; use one of 低保, 低收入, 特困, 独居老人, 空巢老人, 留守儿童, 残疾人',
      'row 4, 联系电话 (E4): "12345" is not a phone number; use 11 digits of a mobile (13812345678) or a landline with its area code (0871-1234567)',
      'row 4, 走访周期 (H4): "每天" is not a visit cycle; use 每周 or 每月, or leave it empty for the cycle the definition gives the category',
      'row 4, 纳入日期 (I4): "2026-02-30" is not a date; use 2026-03-01 (or 2026/3/1, 2026年3月1日)',
      'row 4, 状态 (J4): "暂停" is not a status; use 在册 or 退出 (leave it empty for 在册)',
      'row 5: column L holds "腿脚不便" but the header row names no column there; delete the value, or name the column',
      'row 7, 户号 (A7): household XD-0403 is listed as 低保 on row 6 already; keep one row per household and category',
    ]);
    expect(errors[0]).toEqual({ line: 3, column: '身份证号', cell: 'F3', path: 'row 3, 身份证号 (F3)', message: expect.any(String) });
    expect(rows.map((r) => r.line)).toEqual([6]);
  });

  test('the header is checked as in a CSV file, a column without a header named by its letter', () => {
    const problems = (rows: Cell[][]) => read(rows).errors.map((e) => `${e.path}: ${e.message}`);
    expect(problems([['户号', '类别', null, '网格', '姓名', '住址', '备注']])).toEqual([
      'row 1, column C (C1): column C has no header; name it (户号, 类别, 网格, 姓名, 联系电话, 身份证号, 住址, 走访周期, 纳入日期, 状态) or delete the column',
      'row 1, 备注 (G1): column "备注" is not one the register keeps; known columns: 户号, 类别, 网格, 姓名, 联系电话, 身份证号, 住址, 走访周期, 纳入日期, 状态 (delete it, or rename it to one of these)',
    ]);
    expect(problems([])).toEqual(['row 1: the sheet "台账" is empty; the first row names the columns: 户号,类别,网格,姓名,联系电话,身份证号,住址,走访周期,纳入日期,状态']);
    expect(problems([['户号', '类别', '网格', '姓名', '住址']])).toEqual(['row 2: the sheet "台账" has a header but no entries']);
  });

  test('a file that is no workbook is a problem of the whole file, not of a row', () => {
    expect(readRegistryXlsx(Buffer.from(HEADER.join(',')), everywhere)).toEqual({ problem: expect.stringMatching(/^the file is not an Excel workbook/) });
  });
});
