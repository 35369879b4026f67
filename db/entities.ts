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
  },
});

/** Read model of one process instance, projected from its workflow. */
export class ProcessInstance {
  workflowId!: string;
  definitionKey!: string;
  definitionVersion!: number;
  businessKey!: string;
  title!: string;
  grid?: string | null;
  status!: string;
  state!: string;
  stateValue!: unknown;
  context!: Record<string, unknown>;
  tasks!: unknown[];
  assignee?: string | null;
  dueAt?: Date | null;
  lastSeq!: number;
  startedAt!: Date;
  updatedAt!: Date;
  endedAt?: Date | null;
}

export const ProcessInstanceSchema = new EntitySchema<ProcessInstance>({
  class: ProcessInstance,
  tableName: 'process_instance',
  indexes: [
    { properties: ['definitionKey', 'state'] },
    { properties: ['grid', 'status'] },
    { properties: ['status', 'dueAt'] },
    { properties: ['updatedAt', 'workflowId'] },
  ],
  properties: {
    workflowId: { type: 'string', length: 300, primary: true },
    definitionKey: { type: 'string', length: 100 },
    definitionVersion: { type: 'integer' },
    businessKey: { type: 'string', length: 300 },
    title: { type: 'string', length: 300 },
    grid: { type: 'string', length: 50, nullable: true },
    status: { type: 'string', length: 20 },
    state: { type: 'string', length: 200 },
    stateValue: { type: 'json' },
    context: { type: 'json' },
    tasks: { type: 'json' },
    assignee: { type: 'string', length: 100, nullable: true },
    dueAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    lastSeq: { type: 'integer' },
    startedAt: { type: 'Date', columnType: 'timestamptz' },
    updatedAt: { type: 'Date', columnType: 'timestamptz' },
    endedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
  },
});

/** Append-only history: one row per step (event, timer, reminder) of an instance. */
export class TransitionRecord {
  id!: string;
  workflowId!: string;
  seq!: number;
  at!: Date;
  event!: string;
  fromState!: string;
  toState!: string;
  actor?: string | null;
  data?: unknown;
  late!: boolean;
  definitionVersion!: number;
}

export const TransitionRecordSchema = new EntitySchema<TransitionRecord>({
  class: TransitionRecord,
  tableName: 'transition_record',
  uniques: [{ properties: ['workflowId', 'seq'] }],
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    workflowId: { type: 'string', length: 300 },
    seq: { type: 'integer' },
    at: { type: 'Date', columnType: 'timestamptz' },
    event: { type: 'string', length: 100 },
    fromState: { type: 'string', length: 200 },
    toState: { type: 'string', length: 200 },
    actor: { type: 'string', length: 100, nullable: true },
    data: { type: 'json', nullable: true },
    late: { type: 'boolean', default: false },
    definitionVersion: { type: 'integer' },
  },
});

/** A notice for one role of one grid; its id is the effect's stable identity, so it is written once. */
export class Notification {
  id!: string;
  workflowId!: string;
  memberId?: string | null;
  at!: Date;
  kind!: string;
  role!: string;
  grid?: string | null;
  title!: string;
  body!: string;
  urgent!: boolean;
  readAt?: Date | null;
  createdAt: Date = new Date();
}

export const NotificationSchema = new EntitySchema<Notification>({
  class: Notification,
  tableName: 'notification',
  indexes: [{ properties: ['grid', 'role', 'at'] }, { properties: ['workflowId'] }, { properties: ['memberId', 'at'] }],
  properties: {
    id: { type: 'string', length: 400, primary: true },
    workflowId: { type: 'string', length: 300 },
    memberId: { type: 'string', length: 100, nullable: true },
    at: { type: 'Date', columnType: 'timestamptz' },
    kind: { type: 'string', length: 20 },
    role: { type: 'string', length: 50 },
    grid: { type: 'string', length: 50, nullable: true },
    title: { type: 'string', length: 500 },
    body: { type: 'text' },
    urgent: { type: 'boolean', default: false },
    readAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
  },
});

/** Facts a definition records with the `record` action (check-ins, reported issues, ...). */
export class ProcessRecord {
  id!: string;
  workflowId!: string;
  kind!: string;
  at!: Date;
  grid?: string | null;
  data!: Record<string, unknown>;
}

export const ProcessRecordSchema = new EntitySchema<ProcessRecord>({
  class: ProcessRecord,
  tableName: 'process_record',
  indexes: [{ properties: ['workflowId'] }, { properties: ['kind', 'at'] }],
  properties: {
    id: { type: 'string', length: 400, primary: true },
    workflowId: { type: 'string', length: 300 },
    kind: { type: 'string', length: 50 },
    at: { type: 'Date', columnType: 'timestamptz' },
    grid: { type: 'string', length: 50, nullable: true },
    data: { type: 'json' },
  },
});

/** Which process a parent's effect started, so a retried start finds the same one. */
export class ProcessLink {
  origin!: string;
  workflowId!: string;
  parentWorkflowId!: string;
  createdAt: Date = new Date();
}

export const ProcessLinkSchema = new EntitySchema<ProcessLink>({
  class: ProcessLink,
  tableName: 'process_link',
  indexes: [{ properties: ['parentWorkflowId'] }],
  properties: {
    origin: { type: 'string', length: 400, primary: true },
    workflowId: { type: 'string', length: 300 },
    parentWorkflowId: { type: 'string', length: 300 },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
  },
});

/** Per definition and year counter behind `{seq}` business keys. */
export class BusinessKeyCounter {
  key!: string;
  year!: number;
  value!: number;
}

export const BusinessKeyCounterSchema = new EntitySchema<BusinessKeyCounter>({
  class: BusinessKeyCounter,
  tableName: 'business_key_counter',
  properties: {
    key: { type: 'string', length: 100, primary: true },
    year: { type: 'integer', primary: true },
    value: { type: 'integer' },
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

export const entities = [
  AuditLogSchema,
  ...communityEntities,
  ...rotaEntities,
  ...sessionEntities,
  ...registryEntities,
  ProcessLinkSchema,
  BusinessKeyCounterSchema,
  DefinitionVersionSchema,
  ProcessInstanceSchema,
  TransitionRecordSchema,
  NotificationSchema,
  ProcessRecordSchema,
];
