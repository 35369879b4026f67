import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { QueryOrder, type MikroORM } from '@mikro-orm/postgresql';
import { checkCalendar, type WorkCalendar } from '../engine/calendar';
import { compileDefinition, type CompiledDefinition } from '../engine/compile';
import type { DefinitionDocument } from '../engine/document.schema';
import { diffDefinitions, leafStates } from '../engine/diff';
import { validateDocument, validateText } from '../engine/validate';
import { DefinitionVersion } from '../db/entities';
import * as readModel from '../db/read-model';
import { projectRoot } from '../infra/paths';
import { notFound, unprocessable } from './errors';

export interface LoadedDefinition {
  key: string;
  version: number;
  document: DefinitionDocument;
  /** sha256 of the canonical document: the workflow's compiled machine is shared by it (engine/compile-cache.ts). */
  hash: string;
  compiled: CompiledDefinition;
  createdAt: Date;
  /** The community whose own version this is; null for the street's template. */
  community?: string | null;
}

/** JSON with sorted keys, so the same document always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value as object)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export const documentHash = (doc: unknown) => crypto.createHash('sha256').update(canonical(doc)).digest('hex');

export const BUILT_IN_DIR = path.join(projectRoot(), 'definitions');

/** A definition's lifecycle: `paused` stops its schedule; `retired` deletes it and refuses new starts by people and schedules. */
export type DefinitionStatus = 'active' | 'paused' | 'retired';
export const DEFINITION_STATUSES: DefinitionStatus[] = ['active', 'paused', 'retired'];

export interface StatusView {
  key: string;
  status: DefinitionStatus;
  note: string | null;
  changedBy: string | null;
  changedAt: Date | null;
}

interface StatusRow {
  key: string;
  status: DefinitionStatus;
  note: string | null;
  changed_by: string;
  changed_at: Date;
}

const statusView = (key: string, row?: StatusRow): StatusView =>
  row ? { key, status: row.status, note: row.note, changedBy: row.changed_by, changedAt: new Date(row.changed_at) } : { key, status: 'active', note: null, changedBy: null, changedAt: null };

/** Versioned definitions in PostgreSQL; versions are immutable, so compiled machines are cached forever. */
export class DefinitionService {
  private readonly cache = new Map<string, LoadedDefinition>();

  constructor(
    private readonly orm: MikroORM,
    private readonly calendar?: WorkCalendar,
  ) {}

  /** Reads every built-in `*.definition.yaml`; a built-in that does not validate stops start-up. */
  static readBuiltIns(dir = BUILT_IN_DIR): { file: string; document: DefinitionDocument }[] {
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.definition.yaml') || f.endsWith('.definition.json'))
      .sort()
      .map((file) => {
        const result = validateText(fs.readFileSync(path.join(dir, file), 'utf8'));
        if (!result.valid || !result.document) {
          const lines = result.errors.map((e) => `  ${e.path}: ${e.message}`).join('\n');
          throw new Error(`built-in definition ${file} is invalid:\n${lines}`);
        }
        return { file, document: result.document };
      });
  }

  /** Stores each built-in as version 1, or as a new version when its file changed. Returns what was published. */
  async seedBuiltIns(dir = BUILT_IN_DIR): Promise<{ key: string; version: number }[]> {
    const published: { key: string; version: number }[] = [];
    for (const { file, document } of DefinitionService.readBuiltIns(dir)) {
      const hash = documentHash(document);
      const em = this.orm.em.fork();
      // The street's template: a community's own version does not replace the built-in.
      const latest = await em.findOne(DefinitionVersion, { key: document.key, communityId: null }, { orderBy: { version: 'desc' } });
      if (latest?.hash === hash) continue;
      const builtInBefore = await em.findOne(DefinitionVersion, { key: document.key, hash });
      if (builtInBefore) continue;
      const saved = await this.publish(document, 'system', `built-in file definitions/${file}`);
      published.push(saved);
    }
    return published;
  }

  /**
   * Stores a validated document as the next version of its key: the street's template, or, with
   * `community`, that community's own version (its local override of the template, which must
   * exist). Versions are numbered per key across both, so a number names one document.
   */
  async publish(candidate: unknown, createdBy: string, note?: string, community?: string): Promise<{ key: string; version: number; unchanged?: boolean; community?: string }> {
    const checked = validateDocument(candidate);
    if (!checked.valid || !checked.document) {
      throw unprocessable(`the definition is invalid: ${checked.errors.length} error(s)`, checked.errors);
    }
    const document = checked.document;
    for (let attempt = 0; ; attempt++) {
      const em = this.orm.em.fork();
      const latest = await em.findOne(DefinitionVersion, { key: document.key }, { orderBy: { version: 'desc' } });
      if (community !== undefined && !(await em.findOne(DefinitionVersion, { key: document.key, communityId: null }))) {
        throw notFound(`definition "${document.key}" has no street template to adopt; publish it for the street first (POST /api/definitions), then community ${community}'s own version`);
      }
      // Publishing the latest version of the same scope again changes nothing: same version, no new row.
      const same = await em.findOne(DefinitionVersion, { key: document.key, communityId: community ?? null }, { orderBy: { version: 'desc' } });
      if (same && same.hash === documentHash(document)) return { key: same.key, version: same.version, unchanged: true, ...(community ? { community } : {}) };
      const row = em.create(DefinitionVersion, {
        key: document.key,
        communityId: community ?? null,
        version: (latest?.version ?? 0) + 1,
        title: document.title,
        document: document as unknown as Record<string, unknown>,
        hash: documentHash(document),
        createdAt: new Date(),
        createdBy,
        note: note ?? null,
      });
      try {
        await em.flush();
        return { key: row.key, version: row.version, unchanged: false, ...(community ? { community } : {}) };
      } catch (e) {
        // Two publishers raced for the same version number: take the next one.
        if (attempt < 3 && /unique/i.test(String((e as Error).message))) continue;
        throw e;
      }
    }
  }

  async list(): Promise<{ key: string; title: string; latestVersion: number; updatedAt: Date; status: DefinitionStatus }[]> {
    const rows = await this.orm.em.getConnection().execute<{ key: string; title: string; version: number; created_at: Date; status: DefinitionStatus | null }[]>(
      `select distinct on (v.key) v.key, v.title, v.version, v.created_at, s.status
         from definition_version v left join definition_status s on s.key = v.key
        where v.community_id is null
        order by v.key, v.version desc`,
    );
    return rows.map((r) => ({ key: r.key, title: r.title, latestVersion: r.version, updatedAt: new Date(r.created_at), status: r.status ?? 'active' }));
  }

  /** The lifecycle of a definition; one that was never paused or retired is active. */
  async status(key: string): Promise<StatusView> {
    const rows = await this.orm.em.getConnection().execute<StatusRow[]>(`select * from definition_status where key = ?`, [key]);
    return statusView(key, rows[0]);
  }

  /** The lifecycle of every definition that is not active, by key. */
  async statuses(): Promise<Map<string, StatusView>> {
    const rows = await this.orm.em.getConnection().execute<StatusRow[]>(`select * from definition_status`);
    return new Map(rows.map((r) => [r.key, statusView(r.key, r)]));
  }

  /**
   * Pauses, resumes or retires a definition (its schedule follows: see ScheduleService.reconcile).
   * Running processes are not touched. Audited.
   */
  async setStatus(key: string, status: DefinitionStatus, by: string, note?: string): Promise<StatusView> {
    await this.get(key); // 404 naming the known keys
    const conn = this.orm.em.getConnection();
    const before = await this.status(key);
    const [row] = await conn.execute<StatusRow[]>(
      `insert into definition_status (key, status, note, changed_by, changed_at) values (?, ?, ?, ?, now())
       on conflict (key) do update set status = excluded.status, note = excluded.note, changed_by = excluded.changed_by, changed_at = excluded.changed_at
       returning *`,
      [key, status, note ?? null, by],
    );
    await conn.execute(`insert into audit_log (at, actor, action, subject, data) values (now(), ?, ?, ?, ?)`, [
      by,
      `definition.${status === 'active' ? 'resume' : status === 'paused' ? 'pause' : 'retire'}`,
      `definition:${key}`,
      JSON.stringify({ from: before.status, to: status, note: note ?? null }),
    ]);
    return statusView(key, row);
  }

  /** The working-day calendar shipped in definitions/calendars; a broken file stops start-up. */
  static readCalendar(dir = BUILT_IN_DIR): WorkCalendar {
    const file = path.join(dir, 'calendars', 'cn-statutory.json');
    const { calendar, errors } = checkCalendar(JSON.parse(fs.readFileSync(file, 'utf8')));
    if (!calendar) throw new Error(`calendar ${file} is invalid:\n${errors.map((e) => `  ${e.path}: ${e.message}`).join('\n')}`);
    return calendar;
  }

  /** Every version of a key, newest first, without documents. */
  async versions(key: string): Promise<{ version: number; title: string; createdAt: Date; createdBy: string; note: string | null; hash: string; community: string | null }[]> {
    const rows = await this.orm.em.fork().find(DefinitionVersion, { key }, { orderBy: { version: 'desc' }, fields: ['version', 'title', 'createdAt', 'createdBy', 'note', 'hash', 'communityId'] });
    if (!rows.length) await this.get(key);
    return rows.map((r) => ({ version: r.version, title: r.title, createdAt: r.createdAt, createdBy: r.createdBy, note: r.note ?? null, hash: r.hash, community: r.communityId ?? null }));
  }

  /** Structural diff of two versions with the running instances of `from` per state. */
  /** The running instances counted are those of `communities` (the caller's), all when absent. */
  async diff(key: string, from: number, to: number, communities?: string[]) {
    const [a, b] = await Promise.all([this.get(key, from), this.get(key, to)]);
    return { ...(await this.diffDocuments(key, from, a.document, b.document, communities)), to };
  }

  /** A validated document compiled with the service's calendar, not stored. */
  compileDraft(document: DefinitionDocument): CompiledDefinition {
    return compileDefinition(document, this.calendar);
  }

  /** A draft (not yet published) against a published version, the latest by default. */
  async diffDraft(draft: DefinitionDocument, from?: number, communities?: string[]) {
    const a = await this.get(draft.key, from);
    return { ...(await this.diffDocuments(draft.key, a.version, a.document, draft, communities)), to: 'draft' as const };
  }

  private async diffDocuments(key: string, from: number, fromDoc: DefinitionDocument, toDoc: DefinitionDocument, communities?: string[]) {
    const changes = diffDefinitions(fromDoc, toDoc);
    const rows = await readModel.runningPerState(this.orm, key, from, communities);
    const leaves = leafStates(fromDoc);
    const target = leafStates(toDoc);
    const touched = (state: string) => {
      const path = leaves.get(state) ?? state;
      return changes.filter((c) => c.state !== undefined && (path === c.state || path.startsWith(`${c.state}.`))).length;
    };
    const affected = rows.map((r) => ({ state: r.state, running: r.running, changes: touched(r.state), removedInTarget: !target.has(r.state) }));
    return { key, from, changes, running: affected, runningTotal: affected.reduce((n, r) => n + r.running, 0) };
  }

  async keys(): Promise<string[]> {
    return (await this.list()).map((d) => d.key);
  }

  /**
   * The named version, or the latest a community uses: its own version when it has one, else the
   * street's template (the template without `community`); 404 naming the known keys or versions.
   */
  async get(key: string, version?: number, community?: string): Promise<LoadedDefinition> {
    const cached = version !== undefined ? this.cache.get(`${key}@${version}`) : undefined;
    if (cached) return cached;
    const em = this.orm.em.fork();
    // One query on the start path: the community's own latest version sorts before the template's.
    // It reads the version number only; a version's document never changes, so the cache has it
    // after the first start (the whole row and its document, 30 KB for the issue, came on every start).
    let latest: number | undefined = version;
    if (latest === undefined) {
      const [newest] = await em.find(
        DefinitionVersion,
        community !== undefined ? { key, $or: [{ communityId: community }, { communityId: null }] } : { key, communityId: null },
        { fields: ['version'], orderBy: [{ communityId: QueryOrder.ASC_NULLS_LAST }, { version: QueryOrder.DESC }], limit: 1, disableIdentityMap: true },
      );
      latest = newest?.version;
      const known = latest !== undefined ? this.cache.get(`${key}@${latest}`) : undefined;
      if (known) return known;
    }
    const row = latest === undefined ? null : await em.findOne(DefinitionVersion, { key, version: latest });
    if (!row) {
      const known = await this.keys();
      if (!known.includes(key)) throw notFound(`definition "${key}" does not exist; known: ${known.join(', ') || 'none'}`);
      const last = await em.findOne(DefinitionVersion, { key }, { orderBy: { version: 'desc' } });
      throw notFound(`definition "${key}" has no version ${version}; versions 1 to ${last?.version}`);
    }
    const hit = this.cache.get(`${key}@${row.version}`);
    if (hit) return hit;
    const document = row.document as unknown as DefinitionDocument;
    const loaded: LoadedDefinition = { key, version: row.version, document, hash: row.hash, compiled: compileDefinition(document, this.calendar), createdAt: row.createdAt, community: row.communityId ?? null };
    this.cache.set(`${key}@${row.version}`, loaded);
    return loaded;
  }
}
