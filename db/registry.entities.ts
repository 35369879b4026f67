import { EntitySchema } from '@mikro-orm/core';

/**
 * One line of the special-population register (重点人群台账): a household in a category that gets
 * regular visits. Name, phone, ID number and address are personal data: stored encrypted
 * (`enc:v1:...`, infra/crypto.ts) and masked in every answer but the audited one. The rest (the
 * household number, category, grid, cycle) is what visit rounds carry.
 */
export class RegistryEntry {
  id!: string;
  household!: string;
  category!: string;
  gridId!: string;
  name!: string;
  phone?: string | null;
  idNumber?: string | null;
  address!: string;
  /** weekly or monthly; null: the cycle the definition gives the category. */
  cycle?: 'weekly' | 'monthly' | null;
  /** YYYY-MM-DD: the day the entry joined the register; no cycle ended before it is owed a visit. */
  since!: string;
  active: boolean = true;
  createdAt!: Date;
  updatedAt!: Date;
  updatedBy!: string;
}

export const RegistryEntrySchema = new EntitySchema<RegistryEntry>({
  class: RegistryEntry,
  tableName: 'registry_entry',
  uniques: [{ properties: ['household', 'category'] }],
  indexes: [{ properties: ['gridId', 'category'] }],
  properties: {
    id: { type: 'string', length: 36, primary: true },
    household: { type: 'string', length: 50 },
    category: { type: 'string', length: 20 },
    gridId: { type: 'string', length: 50 },
    name: { type: 'string', length: 300 },
    phone: { type: 'string', length: 300, nullable: true },
    idNumber: { type: 'string', length: 300, nullable: true },
    address: { type: 'string', length: 1000 },
    cycle: { type: 'string', length: 10, nullable: true },
    since: { type: 'string', length: 10 },
    active: { type: 'boolean', default: true },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
    updatedAt: { type: 'Date', columnType: 'timestamptz' },
    updatedBy: { type: 'string', length: 100 },
  },
});

export const registryEntities = [RegistryEntrySchema];
