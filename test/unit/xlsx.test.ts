import { columnLetter, isDateFormat, readFirstWorksheet, serialDate, XLSX_LIMITS, type Worksheet } from '../../services/xlsx';
import { xlsx, zip } from '../support/xlsx';

const sheet = (bytes: Buffer, limits = XLSX_LIMITS) => {
  const read = readFirstWorksheet(bytes, limits);
  if ('problem' in read) throw new Error(read.problem);
  return read as Worksheet;
};
const problem = (bytes: Buffer, limits = XLSX_LIMITS) => {
  const read = readFirstWorksheet(bytes, limits);
  return 'problem' in read ? read.problem : `read sheet ${read.name}`;
};

/** A workbook whose one sheet is this sheetData, for cells written the way other tools write them. */
const withSheetXml = (sheetData: string, parts: { name: string; data: string }[] = []) =>
  xlsx([{ name: 'S', rows: [] }], [{ name: 'xl/worksheets/sheet1.xml', data: `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${sheetData}</sheetData></worksheet>` }, ...parts]);

describe('reading the first worksheet of a workbook', () => {
  test('shared strings, inline strings, numbers, dates in a date format, booleans, a formula\'s value and empty cells, as the sheet shows them', () => {
    const ws = sheet(
      xlsx([
        {
          name: '台账',
          rows: [
            ['户号', '姓名', '电话', '纳入日期', '在册', '备注'],
            ['XD-01', { inline: '张三 & "李四" <夫妇>' }, 13812345678, { date: '2026-03-01' }, true, { formula: 'A2&"号"', value: 'XD-01号' }],
            [null, '王五', 110105194912310020, 3.5, false],
          ],
        },
        { name: 'Sheet2', rows: [['another sheet']] },
      ]),
    );
    expect(ws).toEqual({
      name: '台账',
      rows: [
        { row: 1, cells: ['户号', '姓名', '电话', '纳入日期', '在册', '备注'] },
        { row: 2, cells: ['XD-01', '张三 & "李四" <夫妇>', '13812345678', '2026-03-01', 'TRUE', 'XD-01号'] },
        { row: 3, cells: ['', '王五', '1.1010519491231002E+17', '3.5', 'FALSE'] },
      ],
    });
  });

  test('the row numbers and columns are the sheet\'s: empty rows and skipped columns keep their places, and cells may come without r', () => {
    const ws = sheet(withSheetXml('<row r="2"><c r="C2" t="inlineStr"><is><t>c</t></is></c></row><row r="5" spans="1:3"><c r="A5"><v>1</v></c><c s="0"/><c><v>3</v></c></row><row><c r="AB6"><v>7</v></c></row>'));
    expect(ws.rows).toEqual([
      { row: 2, cells: ['', '', 'c'] },
      { row: 5, cells: ['1', '', '3'] },
      { row: 6, cells: [...Array(27).fill(''), '7'] },
    ]);
  });

  test('rich text runs join, a phonetic guide is left out, XML and OOXML escapes are undone, a namespace prefix is allowed', () => {
    const sst = `<x:sst xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:si><x:r><x:rPr><x:b/></x:rPr><x:t>信达</x:t></x:r><x:r><x:t xml:space="preserve">家园 &#x31;号</x:t></x:r><x:rPh sb="0" eb="2"><x:t>シンタツ</x:t></x:rPh></x:si><x:si><x:t>a_x000D_b_x005F_x0041_</x:t></x:si><x:si/></x:sst>`;
    const ws = sheet(withSheetXml('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c><c r="D1" t="e"><v>#N/A</v></c></row>', [{ name: 'xl/sharedStrings.xml', data: sst }]));
    expect(ws.rows).toEqual([{ row: 1, cells: ['信达家园 1号', 'a\rb_x0041_', '', '#N/A'] }]);
  });

  test('the first visible worksheet in tab order, wherever its part is; a hidden one and one that is no worksheet are passed over', () => {
    const bytes = xlsx(
      [
        { name: '说明', rows: [['hidden notes']], hidden: true },
        { name: '台账', rows: [['户号']] },
      ],
      [
        // The tab order puts the second part first, as after dragging a tab in Excel.
        {
          name: 'xl/workbook.xml',
          data: '<workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="图表" sheetId="9" r:id="rId9"/><sheet name="说明" sheetId="1" state="hidden" r:id="rId3"/><sheet name="台账" sheetId="2" r:id="rId4"/></sheets></workbook>',
        },
      ],
    );
    expect(sheet(bytes).name).toBe('台账');
  });

  test('dates: built-in and custom date formats, the 1900 leap-year bug, the 1904 system, and a time of day', () => {
    expect(['yyyy/m/d;@', 'yyyy"年"m"月"d"日"', '[$-804]aaaa;d-mmm', 'm/d/yy h:mm', 'e"年"m"月"d"日"'].map(isDateFormat)).toEqual([true, true, true, true, true]);
    expect(['General', '0.00', '"day"0', 'h:mm:ss', '[Red]0.00', '#,##0_);(#,##0)', '@'].map(isDateFormat)).toEqual([false, false, false, false, false, false, false]);
    expect([serialDate(46082), serialDate(1), serialDate(59), serialDate(61), serialDate(44620, true), serialDate(46082.75)]).toEqual(['2026-03-01', '1900-01-01', '1900-02-28', '1900-03-01', '2026-03-01', '2026-03-01 18:00']);
    const styles = '<styleSheet><cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="31" applyNumberFormat="1"></xf></cellXfs></styleSheet>';
    const ws = sheet(withSheetXml('<row r="1"><c r="A1" s="1"><v>46082</v></c><c r="B1" s="2"><v>46083</v></c><c r="C1"><v>46082</v></c><c r="D1" t="d"><v>2026-03-04T00:00:00Z</v></c></row>', [{ name: 'xl/styles.xml', data: styles }]));
    expect(ws.rows[0].cells).toEqual(['2026-03-01', '2026-03-02', '46082', '2026-03-04']);
  });

  test('column letters as Excel shows them', () => {
    expect([0, 25, 26, 27, 51, 52, 701, 702, 16383].map(columnLetter)).toEqual(['A', 'Z', 'AA', 'AB', 'AZ', 'BA', 'ZZ', 'AAA', 'XFD']);
  });
});

describe('what is not a workbook, or not one to read', () => {
  test('an .xls, a password-protected workbook, text and a damaged zip are refused with how to save the file', () => {
    expect(problem(Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), Buffer.alloc(100)]))).toMatch(/^this is an Excel 97-2003 workbook \(\.xls\) or a workbook with a password.*Excel 工作簿 \(\*\.xlsx\)/);
    expect(problem(Buffer.from('户号,类别,网格\n1,2,3'))).toMatch(/^the file is not an Excel workbook/);
    const good = xlsx([{ name: 'S', rows: [['a']] }]);
    expect(problem(good.subarray(0, good.length - 10))).toMatch(/damaged \(its zip directory/);
    expect(problem(zip([{ name: 'word/document.xml', data: '<w:document/>' }]))).toMatch(/^the zip holds no workbook \(xl\/workbook\.xml\)/);
    expect(problem(xlsx([{ name: 'S', rows: [['a']], hidden: true }]))).toMatch(/^the workbook has no visible worksheet/);
    expect(problem(withSheetXml('<row r="1"><c r="A1" t="s"><v>7</v></c></row>'))).toMatch(/^cell A1 names shared string 7, which the workbook does not hold/);
    const corrupt = xlsx([{ name: 'S', rows: [] }], [{ name: 'xl/worksheets/sheet1.xml', data: '', compressed: Buffer.from('ff00ff00ff00', 'hex') }]);
    expect(problem(corrupt)).toMatch(/^the workbook is damaged \(part xl\/worksheets\/sheet1\.xml does not inflate\)/);
  });

  test('a zip bomb: a part that inflates past the cap is refused, whatever size the directory declares, before it is inflated whole', () => {
    const zeros = Buffer.alloc(XLSX_LIMITS.partBytes + 1, 0x20);
    const bomb = (declaredSize?: number) => xlsx([{ name: 'S', rows: [] }], [{ name: 'xl/worksheets/sheet1.xml', data: Buffer.concat([Buffer.from('<worksheet><sheetData>'), zeros, Buffer.from('</sheetData></worksheet>')]), declaredSize }]);
    expect(bomb().length).toBeLessThan(100_000);
    expect(problem(bomb())).toMatch(/^the workbook's part xl\/worksheets\/sheet1\.xml inflates to more than 16 MB/);
    // The directory says 100 bytes; inflating stops at the cap all the same.
    expect(problem(bomb(100))).toMatch(/inflates to more than 16 MB/);
    // All the parts together are capped too.
    const small = { ...XLSX_LIMITS, partBytes: 4000, totalBytes: 5000 };
    const filler = `<!--${'x'.repeat(3000)}-->`;
    expect(problem(xlsx([{ name: 'S', rows: [['a']] }], [{ name: 'xl/styles.xml', data: `<styleSheet>${filler}</styleSheet>` }, { name: 'xl/sharedStrings.xml', data: `<sst>${filler}<si><t>a</t></si></sst>` }]), small)).toMatch(
      /^the workbook's part xl\/styles\.xml inflates to more than \d+ bytes/,
    );
  });

  test('a sheet whose values reach far to the right in many rows is refused by its cell count, not built', () => {
    const rows = Array.from({ length: 50 }, (_, i) => `<row r="${i + 1}"><c r="XFD${i + 1}"><v>1</v></c></row>`).join('');
    expect(problem(withSheetXml(rows))).toBe('read sheet S');
    expect(problem(withSheetXml(rows), { ...XLSX_LIMITS, cells: 100_000 })).toBe('the sheet "S" spans more than 100,000 cells (row 7 reaches column XFD); delete the rows and columns the register does not use');
  });

  test('stored (not deflated) parts are read, and a part compressed another way is refused', () => {
    expect(sheet(xlsx([{ name: 'S', rows: [] }], [{ name: 'xl/worksheets/sheet1.xml', data: '<sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData>', method: 0 }])).rows).toEqual([{ row: 1, cells: ['1'] }]);
    const bz = zip([{ name: 'xl/workbook.xml', data: 'x' }]);
    // Method 12 (bzip2) in the central directory.
    const dir = bz.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    bz.writeUInt16LE(12, dir + 10);
    expect(problem(bz)).toMatch(/compressed with method 12/);
  });
});
