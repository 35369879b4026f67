import fs from 'node:fs';
import path from 'node:path';
import { decodeCsv, gridFrom, idNumberValid, normalizeDate, parseCsv, readRegistryCsv } from '../../services/registry-csv';
import { maskAddress, maskIdNumber, maskName } from '../../services/registry.service';

const GRIDS = Array.from({ length: 12 }, (_, i) => ({ id: `grid-${String(i + 1).padStart(2, '0')}`, name: `第${['一', '二', '三', '四', '五', '六', '七', '八', '九', '十', '十一', '十二'][i]}网格` }));
const everywhere = { grids: GRIDS, mayImport: () => true };
const read = (text: string, ctx: Parameters<typeof readRegistryCsv>[1] = everywhere) => readRegistryCsv(text, ctx);
const problems = (text: string, ctx?: Parameters<typeof readRegistryCsv>[1]) => read(text, ctx).errors.map((e) => `${e.path}: ${e.message}`);

describe('reading a register file', () => {
  test('a file as people type it: a byte order mark, headers with marks and other spellings, quoted cells, CRLF', () => {
    const bytes = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(
        [
          '户号*, 人员类别 ,所属网格,姓名（必填）,手机号,身份证号码,家庭住址,走访周期,纳入日期,状态',
          'XD-0301,独居老人,第十一网格,张三,138 1234 5678,11010519491231002x,"信达家园3号楼, 2单元101",每周,2026/3/1,在册',
          'XD-0302,散居特困,11,李四,0871-1234567,,"信达家园5号楼',
          '（平房）",,2026年3月15日,',
          '',
          'XD-0303,低保,grid-12,王五,,,光源小区8号,每月,,退出',
        ].join('\r\n'),
      ),
    ]);
    const decoded = decodeCsv(bytes);
    expect('text' in decoded).toBe(true);
    const { rows, errors } = read((decoded as { text: string }).text);
    expect(errors).toEqual([]);
    expect(rows).toEqual([
      { line: 2, household: 'XD-0301', category: '独居老人', grid: 'grid-11', name: '张三', phone: '13812345678', idNumber: '11010519491231002X', address: '信达家园3号楼, 2单元101', cycle: 'weekly', since: '2026-03-01', active: true },
      { line: 3, household: 'XD-0302', category: '特困', grid: 'grid-11', name: '李四', phone: '0871-1234567', idNumber: null, address: '信达家园5号楼\n（平房）', cycle: null, since: '2026-03-15', active: true },
      { line: 6, household: 'XD-0303', category: '低保', grid: 'grid-12', name: '王五', phone: null, idNumber: null, address: '光源小区8号', cycle: 'monthly', since: null, active: false },
    ]);
  });

  test('the sample file shipped beside the care-visit example reads without a problem', () => {
    const decoded = decodeCsv(fs.readFileSync(path.join(__dirname, '..', '..', 'definitions', 'examples', 'registry.sample.csv')));
    const { rows, errors } = read((decoded as { text: string }).text);
    expect(errors).toEqual([]);
    expect(rows.map((r) => `${r.household} ${r.category} ${r.grid} ${r.cycle ?? '-'} ${r.active}`)).toEqual([
      'SS03-0101 独居老人 grid-03 - true',
      'SS03-0102 低保 grid-03 - true',
      'SS03-0102 残疾人 grid-03 weekly true',
      'SS03-0103 空巢老人 grid-03 - true',
      'SS03-0104 留守儿童 grid-03 - true',
      'SS05-0201 特困 grid-05 - true',
      'SS05-0202 独居老人 grid-05 - false',
    ]);
  });

  test('each bad cell is reported with its line and column and what would do, and no row of a bad line is kept', () => {
    const text = [
      '户号,类别,网格,姓名,联系电话,身份证号,住址,走访周期,纳入日期,状态',
      'XD-0401,独居老人,11,赵六,1.38123E+10,,信达家园1号,,,',
      'XD-0402,孤寡老人,11,钱七,13812345678,110105194912310021,信达家园2号,每天,2026-02-30,暂停',
      '信达3-101,低保,十三,,12345,,,,,',
      'XD-0404,低保,11,孙八,,,信达家园4号,,,',
      'XD-0404,低保,11,孙八,,,信达家园4号,,,',
      'XD-0404,独居老人,12,孙八,,,信达家园4号,,,',
      'XD-0405,低保,11,周九,,,"a,b",c,,,extra',
    ].join('\n');
    const { rows, errors } = read(text);
    expect(errors.map((e) => `${e.path}: ${e.message}`)).toEqual([
      'line 2, 联系电话: "1.38123E+10" is a number the spreadsheet shortened; format the column as text and type the number again',
      'line 3, 类别: "孤寡老人" is not a category of the register; use one of 低保, 低收入, 特困, 独居老人, 空巢老人, 留守儿童, 残疾人',
      'line 3, 身份证号: the ID number\'s last character does not match the others (GB 11643 check digit); check it for a typing error',
      'line 3, 走访周期: "每天" is not a visit cycle; use 每周 or 每月, or leave it empty for the cycle the definition gives the category',
      'line 3, 纳入日期: "2026-02-30" is not a date; use 2026-03-01 (or 2026/3/1, 2026年3月1日)',
      'line 3, 状态: "暂停" is not a status; use 在册 or 退出 (leave it empty for 在册)',
      'line 4, 户号: "信达3-101" is not a household number gridflow can use: letters, digits and "-", at most 50 (it names the household\'s visit rounds, e.g. care-visit/XD-0301/2026-W49); keep the address in 住址',
      'line 4, 网格: "十三" is no grid of the community; use a number from 1 to 12, a name like 第一网格, or an id like grid-01',
      'line 4, 姓名: 姓名 is empty; every entry needs the person\'s name',
      'line 4, 联系电话: "12345" is not a phone number; use 11 digits of a mobile (13812345678) or a landline with its area code (0871-1234567)',
      'line 4, 住址: 住址 is empty; the visit needs the address',
      'line 6, 户号: household XD-0404 is listed as 低保 on line 5 already; keep one line per household and category',
      'line 7, 网格: household XD-0404 is in grid-11 on line 5; a household belongs to one grid',
      'line 8: the line has 11 cells and the header 10; a comma inside a value needs the value in double quotes',
    ]);
    expect(errors[0]).toMatchObject({ line: 2, column: '联系电话' });
    expect(rows.map((r) => r.line)).toEqual([5]);
  });

  test('a header gridflow does not keep, a repeated one or a missing required one is refused before any line', () => {
    expect(problems('户号,类别,网格,姓名,住址,备注\nXD-1,低保,1,张三,信达家园1号,腿脚不便')).toEqual([
      'line 1, 备注: column "备注" is not one the register keeps; known columns: 户号, 类别, 网格, 姓名, 联系电话, 身份证号, 住址, 走访周期, 纳入日期, 状态 (delete it, or rename it to one of these)',
    ]);
    expect(problems('户号,类别,网格,姓名,电话,手机\nXD-1,低保,1,张三,,')).toEqual([
      'line 1, 手机: column "手机" repeats "电话" (both are 联系电话); keep one',
      'line 1: the column 住址 is missing; the register needs 户号, 类别, 网格, 姓名, 住址',
    ]);
    expect(problems('')).toEqual(['line 1: the file is empty; the first line names the columns: 户号,类别,网格,姓名,联系电话,身份证号,住址,走访周期,纳入日期,状态']);
    expect(problems('户号,类别,网格,姓名,住址\n')).toEqual(['line 2: the file has a header but no entries']);
  });

  test('a grid leader\'s file may hold only their grids\' entries', () => {
    const ctx = { grids: GRIDS, mayImport: (g: string) => g === 'grid-11', yours: ['grid-11'] };
    expect(problems('户号,类别,网格,姓名,住址\nXD-1,低保,11,张三,甲\nXD-2,低保,5,李四,乙', ctx)).toEqual([
      'line 3, 网格: grid-05 is not one of your grids (grid-11); a manager imports other grids\' entries',
    ]);
  });

  test('an Excel workbook, GBK text (Excel\'s plain CSV) and NUL bytes are refused with how to save the file', () => {
    expect(decodeCsv(Buffer.from('PK\x03\x04rest of a zip', 'latin1'))).toEqual({ problem: expect.stringContaining('Excel workbook') });
    // "户号,姓名\n1,张三" saved as GBK.
    expect(decodeCsv(Buffer.from('bba7bac52cd0d5c3fb0a312cd5c5c8fd0a', 'hex'))).toEqual({ problem: expect.stringContaining('not UTF-8') });
    expect(decodeCsv(Buffer.from('户号\u0000,姓名'))).toEqual({ problem: expect.stringContaining('NUL') });
  });
});

describe('the pieces', () => {
  test('RFC 4180: doubled quotes, empty cells and the line each record starts on', () => {
    expect(parseCsv('a,"b ""c""",\n"x\ny",z\n\n')).toEqual([
      { line: 1, cells: ['a', 'b "c"', ''] },
      { line: 2, cells: ['x\ny', 'z'] },
    ]);
  });

  test('grids as people name them', () => {
    for (const [text, id] of [['grid-03', 'grid-03'], ['3', 'grid-03'], ['03', 'grid-03'], ['第三网格', 'grid-03'], ['第3网格', 'grid-03'], ['三网格', 'grid-03'], ['网格3', 'grid-03'], ['第十二网格', 'grid-12'], ['13', undefined], ['第十三网格', undefined], ['三号楼', undefined]] as const) {
      expect([text, gridFrom(text, GRIDS)]).toEqual([text, id]);
    }
  });

  test('dates as people type them, and only real ones', () => {
    expect(['2026-03-01', '2026/3/1', '2026.3.1', '2026年3月1日'].map(normalizeDate)).toEqual(Array(4).fill('2026-03-01'));
    expect(['2026-02-29', '3/1/2026', '2026-3'].map(normalizeDate)).toEqual([undefined, undefined, undefined]);
  });

  test('ID numbers by their check digit (GB 11643)', () => {
    expect(['11010519491231002X', '530102194001011239', '530102201506014569'].map(idNumberValid)).toEqual([true, true, true]);
    expect(['110105194912310021', '53010219400101123', '5301021940010112390'].map(idNumberValid)).toEqual([false, false, false]);
  });

  test('masks keep enough to tell entries apart and nothing to find the person by', () => {
    expect(maskName('张三')).toBe('张*');
    expect(maskName('欧阳娜娜')).toBe('欧***');
    expect(maskName('王')).toBe('*');
    expect(maskIdNumber('11010519491231002X')).toBe('110***********002X');
    expect(maskAddress('信达家园3号楼2单元101')).toBe('信达家园****');
    expect(maskAddress('光源8号')).toBe('光源****');
  });
});
