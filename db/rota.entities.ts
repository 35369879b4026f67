import { EntitySchema } from '@mikro-orm/core';
import type { RotaKind } from '../engine/rota';

/**
 * One member's duty (值班), rest day (轮休) or leave (请假) on one day of one grid, with who stands in
 * (代岗). Only exceptions are stored: without an entry the full-time worker is on duty as always.
 */
export class RotaEntry {
  id!: string;
  gridId!: string;
  /** The local day, `YYYY-MM-DD` (a date column, read as text). */
  day!: string;
  memberId!: string;
  kind!: RotaKind;
  standIn?: string | null;
  note?: string | null;
  updatedBy!: string;
  updatedAt: Date = new Date();
}

export const RotaEntrySchema = new EntitySchema<RotaEntry>({
  class: RotaEntry,
  tableName: 'rota_entry',
  uniques: [{ properties: ['gridId', 'day', 'memberId'] }],
  indexes: [{ properties: ['day'] }],
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    gridId: { type: 'string', length: 50 },
    day: { type: 'date', columnType: 'date' },
    memberId: { type: 'string', length: 100 },
    kind: { type: 'string', length: 10 },
    standIn: { type: 'string', length: 100, nullable: true },
    note: { type: 'string', length: 200, nullable: true },
    updatedBy: { type: 'string', length: 100 },
    updatedAt: { type: 'Date', columnType: 'timestamptz' },
  },
});

export const rotaEntities = [RotaEntrySchema];
