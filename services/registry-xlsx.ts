import { readRegistryRecords, type RecordSource, type RegistryContext, type RegistryRead } from './registry-csv';
import { columnLetter, readFirstWorksheet } from './xlsx';

/**
 * Reading the register from an Excel workbook: its first visible worksheet, with the same header,
 * values and checks as a CSV file (services/registry-csv.ts), so a workbook and the CSV saved from
 * it import to the same entries. Problems name the sheet's row and the cell (`row 4, 联系电话 (E4)`).
 */
export function readRegistryXlsx(bytes: Uint8Array, ctx: RegistryContext): ({ sheet: string } & RegistryRead) | { problem: string } {
  const sheet = readFirstWorksheet(bytes);
  if ('problem' in sheet) return sheet;
  const src: RecordSource = {
    unit: 'row',
    what: `the sheet "${sheet.name}"`,
    columnName: (i) => `column ${columnLetter(i)}`,
    cellRef: (i, row) => `${columnLetter(i)}${row}`,
    extraCells: (cells, n) => {
      const extra = cells.findIndex((c, i) => i >= n && c.trim() !== '');
      return `column ${columnLetter(extra)} holds "${cells[extra].trim()}" but the header row names no column there; delete the value, or name the column`;
    },
  };
  return { sheet: sheet.name, ...readRegistryRecords(sheet.rows.map((r) => ({ line: r.row, cells: r.cells })), ctx, src) };
}
