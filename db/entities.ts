import { EntitySchema } from '@mikro-orm/core';
import { communityEntities } from './community.entities';
import { rotaEntities } from './rota.entities';
import { sessionEntities } from './sessions.entities';
import { registryEntities } from './registry.entities';

/** One immutable version of a definition document. */
export class DefinitionVersion {
  id!: number;
  key!: string;
  version!: number;
  title!: string;
  document!: Record<string, unknown>;
  hash!: string;
  createdAt: Date = new Date();
  createdBy!: string;
  note?: string | null;
  /** A community's own version (its local override of the street's template); null for the template all communities use. */
  communityId?: string | null;
}

export const DefinitionVersionSchema = new EntitySchema<DefinitionVersion>({
  class: DefinitionVersion,
  tableName: 'definition_version',
  uniques: [{ properties: ['key', 'version'] }],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    key: { type: 'string', length: 100 },
    version: { type: 'integer' },
    title: { type: 'string', length: 200 },
    document: { type: 'json' },
    hash: { type: 'string', length: 64 },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
    createdBy: { type: 'string', length: 100 },
    note: { type: 'text', nullable: true },
    communityId: { type: 'string', length: 30, nullable: true },
  },
});

/** Who did what, when: one row per audited action. */
export class AuditLog {
  id!: string;
  at!: Date;
  actor!: string;
  action!: string;
  subject!: string;
  data!: Record<string, unknown>;
}

export const AuditLogSchema = new EntitySchema<AuditLog>({
  class: AuditLog,
  tableName: 'audit_log',
  indexes: [{ properties: ['subject', 'at'] }],
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    at: { type: 'Date', columnType: 'timestamptz' },
    actor: { type: 'string', length: 100 },
    action: { type: 'string', length: 50 },
    subject: { type: 'string', length: 300 },
    data: { type: 'json' },
  },
});

/**
 * Only tables the ORM itself reads and writes have entities here. The read model (process_instance,
 * transition_record, process_record, process_link, task_claim) is db/read-model/'s: its queries are
 * SQL the ORM does not express (guarded upserts, grouping sets, jsonb lateral joins). Notifications,
 * business-key counters and the other tables a service queries in SQL are described by their
 * migrations alone, so no second, unchecked description can drift from them.
 */
export const entities = [
  AuditLogSchema,
  ...communityEntities,
  ...rotaEntities,
  ...sessionEntities,
  ...registryEntities,
  DefinitionVersionSchema,
];
