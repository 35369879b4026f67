import { communityOfGrid } from '../engine/community';
import crypto from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { RegistryEntry } from '../db/registry.entities';
import { registryRounds, type RoundRow } from '../db/read-model/rounds';
import {
  coverageOf,
  cycleOf,
  parseCycle,
  periodOf,
  REGISTRY_CATEGORIES,
  roundsFor,
  type Cycle,
  type HouseholdRound,
  type RegistryFanOut,
  type RoundRecord,
  type VisitPeriod,
} from '../engine/schedule-fanout';
import type { Coverage, CoverageGroup, EntryPersonal, EntryView } from '../engine/registry-view';
import { addDays, isDate, localDate } from '../engine/time';
import type { WorkCalendar } from '../engine/working-days';
import type { DataKey } from '../infra/crypto';
import { maskPhone } from './community.service';
import type { DefinitionService } from './definitions.service';
import { badRequest, conflict, notFound, ProblemError, unprocessable } from './errors';
import { decodeCsv, normalizeDate, normalizeIdNumber, normalizePhone, readRegistryCsv, type ImportError, type ImportRow, type RegistryRead } from './registry-csv';
import { readRegistryXlsx } from './registry-xlsx';

/** The grids a caller reaches: all of them, or a grid role's own. */
export type RegistryScope = string[] | 'all';

export interface EntryPatch {
  name?: string;
  phone?: string | null;
  idNumber?: string | null;
  address?: string;
  cycle?: VisitPeriod | null;
  since?: string;
  active?: boolean;
}

export interface ImportResult {
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
}

/** `张三` -> `张*`: the family name stays, so a worker can tell entries apart without reading them. */
export function maskName(name: string): string {
  const chars = [...name];
  return chars.length <= 1 ? '*' : `${chars[0]}${'*'.repeat(Math.min(chars.length - 1, 3))}`;
}

/** `110101195001011234` -> `110***********1234`. */
export function maskIdNumber(id: string): string {
  return id.length < 8 ? '*'.repeat(id.length) : `${id.slice(0, 3)}${'*'.repeat(id.length - 7)}${id.slice(-4)}`;
}

/** The first few characters (the compound, at most four), never the building or the door. */
export function maskAddress(address: string): string {
  const chars = [...address];
  return `${chars.slice(0, Math.min(4, Math.floor(chars.length / 2))).join('')}****`;
}

const inScope = (scope: RegistryScope, grid: string) => scope === 'all' || scope.includes(grid);

/**
 * The special-population register: import, list, edit, the audited unmasking of one entry, the
 * households a registry-driven schedule is due to visit, and the coverage view. It is the one
 * owner of `registry_entry`; personal fields are encrypted with the data key before they are
 * written and decrypted only to compare on import and for the unmasking route.
 */
export class RegistryService {
  constructor(
    private readonly deps: {
      orm: MikroORM;
      key: DataKey;
      definitions: DefinitionService;
      calendar: WorkCalendar;
      grids: () => Promise<{ id: string; name: string }[]>;
    },
  ) {}

  private clear(text: string | null | undefined): string | null {
    return text === null || text === undefined ? null : this.deps.key.decryptText(text);
  }

  private view(e: RegistryEntry): EntryView {
    const phone = this.clear(e.phone);
    const idNumber = this.clear(e.idNumber);
    return {
      id: e.id,
      household: e.household,
      category: e.category,
      grid: e.gridId,
      name: maskName(this.clear(e.name) ?? ''),
      phone: phone === null ? null : maskPhone(phone),
      idNumber: idNumber === null ? null : maskIdNumber(idNumber),
      address: maskAddress(this.clear(e.address) ?? ''),
      cycle: e.cycle ?? null,
      since: e.since,
      active: e.active,
      updatedAt: e.updatedAt.toISOString(),
      updatedBy: e.updatedBy,
    };
  }

  private async audit(actor: string, action: string, subject: string, data: Record<string, unknown>): Promise<void> {
    await this.deps.orm.em
      .fork()
      .getConnection()
      .execute(`insert into audit_log (at, actor, action, subject, data) values (now(), ?, ?, ?, ?)`, [actor, action, subject, JSON.stringify(data)]);
  }

  /** One entry within the caller's grids; another grid's entry answers 404 like one that does not exist. */
  private async entry(id: string, scope: RegistryScope): Promise<RegistryEntry> {
    const e = await this.deps.orm.em.fork().findOne(RegistryEntry, { id });
    if (!e || !inScope(scope, e.gridId)) throw notFound(`registry entry "${id}" does not exist`);
    return e;
  }

  async list(scope: RegistryScope, q: { grid?: string; category?: string; household?: string; active?: boolean; limit: number; offset: number }): Promise<{ items: EntryView[]; total: number }> {
    const where: Record<string, unknown> = {};
    if (q.grid) where.gridId = q.grid;
    if (scope !== 'all') where.gridId = q.grid ? (scope.includes(q.grid) ? q.grid : { $in: [] }) : { $in: scope };
    if (q.category) where.category = q.category;
    if (q.household) where.household = q.household;
    if (q.active !== undefined) where.active = q.active;
    const [rows, total] = await this.deps.orm.em.fork().findAndCount(RegistryEntry, where, { orderBy: { gridId: 'asc', household: 'asc', category: 'asc' }, limit: q.limit, offset: q.offset });
    return { items: rows.map((e) => this.view(e)), total };
  }

  async get(id: string, scope: RegistryScope): Promise<EntryView> {
    return this.view(await this.entry(id, scope));
  }

  /** The personal fields in clear, for whoever reaches the entry's grid; every reading is audited. */
  async personal(id: string, scope: RegistryScope, actor: string, requestId?: string): Promise<EntryPersonal> {
    const e = await this.entry(id, scope);
    await this.audit(actor, 'registry.unmask', `registry:${e.id}`, { grid: e.gridId, household: e.household, category: e.category, requestId: requestId ?? null });
    return { id: e.id, household: e.household, name: this.clear(e.name) ?? '', phone: this.clear(e.phone), idNumber: this.clear(e.idNumber), address: this.clear(e.address) ?? '' };
  }

  /** Edits an entry's personal fields, cycle, date and status; the audit log says which fields changed, not to what. */
  async update(id: string, scope: RegistryScope, patch: EntryPatch, actor: string): Promise<EntryView> {
    const errors: { path: string; message: string }[] = [];
    const value: EntryPatch = { ...patch };
    if (typeof patch.phone === 'string') {
      const p = normalizePhone(patch.phone);
      if ('problem' in p) errors.push({ path: 'phone', message: p.problem });
      else value.phone = p.value;
    }
    if (typeof patch.idNumber === 'string') {
      const p = normalizeIdNumber(patch.idNumber);
      if ('problem' in p) errors.push({ path: 'idNumber', message: p.problem });
      else value.idNumber = p.value;
    }
    if (patch.since !== undefined) {
      const d = normalizeDate(patch.since);
      if (!d) errors.push({ path: 'since', message: `"${patch.since}" is not a date; use YYYY-MM-DD, e.g. 2026-03-01` });
      else value.since = d;
    }
    if (errors.length) throw badRequest(`cannot change registry entry "${id}": ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
    const em = this.deps.orm.em.fork();
    const e = await em.findOne(RegistryEntry, { id });
    if (!e || !inScope(scope, e.gridId)) throw notFound(`registry entry "${id}" does not exist`);
    const changed: string[] = [];
    const setPersonal = (field: 'name' | 'phone' | 'idNumber' | 'address', v: string | null | undefined) => {
      if (v === undefined || v === this.clear(e[field])) return;
      e[field] = (v === null ? null : this.deps.key.encryptText(v)) as string;
      changed.push(field);
    };
    setPersonal('name', value.name);
    setPersonal('phone', value.phone);
    setPersonal('idNumber', value.idNumber);
    setPersonal('address', value.address);
    if (value.cycle !== undefined && value.cycle !== (e.cycle ?? null)) {
      e.cycle = value.cycle;
      changed.push('cycle');
    }
    if (value.since !== undefined && value.since !== e.since) {
      e.since = value.since;
      changed.push('since');
    }
    if (value.active !== undefined && value.active !== e.active) {
      e.active = value.active;
      changed.push('active');
    }
    if (changed.length) {
      e.updatedAt = new Date();
      e.updatedBy = actor;
      await em.flush();
      await this.audit(actor, 'registry.edit', `registry:${e.id}`, { grid: e.gridId, household: e.household, category: e.category, fields: changed });
    }
    return this.view(e);
  }

  /**
   * Imports a CSV file: every line checked first, then all of it written in one transaction, or
   * nothing when any line has a problem (422 naming each line and column). A household and
   * category already registered is updated, not added again.
   */
  async importCsv(bytes: Uint8Array, scope: RegistryScope, actor: string, today = localDate(Date.now())): Promise<ImportResult> {
    const decoded = decodeCsv(bytes);
    if ('problem' in decoded) throw new ProblemError(415, 'Unsupported Media Type', decoded.problem);
    const read = readRegistryCsv(decoded.text, await this.importContext(scope));
    return this.importRead(read, 'the file has {n} problem(s); nothing was imported. Correct each line named and upload the whole file again', scope, actor, today);
  }

  /** Imports an Excel workbook's first visible worksheet, as importCsv a CSV file: all its rows or none. */
  async importXlsx(bytes: Uint8Array, scope: RegistryScope, actor: string, today = localDate(Date.now())): Promise<ImportResult> {
    const read = readRegistryXlsx(bytes, await this.importContext(scope));
    if ('problem' in read) throw new ProblemError(415, 'Unsupported Media Type', read.problem);
    return this.importRead(read, `the sheet "${read.sheet}" has {n} problem(s); nothing was imported. Correct each row named and upload the whole workbook again`, scope, actor, today);
  }

  private async importContext(scope: RegistryScope) {
    // A file names grids as people do (3, 第三网格): within the caller's own communities.
    const communities = scope === 'all' ? undefined : new Set(scope.map((g) => communityOfGrid(g)));
    const grids = (await this.deps.grids()).filter((g) => !communities || communities.has(communityOfGrid(g.id)));
    return { grids, mayImport: (g: string) => inScope(scope, g), yours: scope === 'all' ? undefined : scope };
  }

  /** Writes what a file read to, in one transaction, or nothing when it or the register has a problem. */
  private async importRead(read: RegistryRead, refusal: string, scope: RegistryScope, actor: string, today: string): Promise<ImportResult> {
    const { rows, errors } = read;
    const fail = (list: ImportError[]): never => {
      throw unprocessable(refusal.replace('{n}', String(list.length)), list);
    };
    if (errors.length) fail(errors);
    try {
      return await this.deps.orm.em.fork().transactional(async (em) => {
        const households = [...new Set(rows.map((r) => r.household))];
        const existing = await em.find(RegistryEntry, { household: { $in: households } });
        const conflicts = this.againstRegister(read, existing, scope);
        if (conflicts.length) fail(conflicts);
        const byKey = new Map(existing.map((e) => [`${e.household}\u0000${e.category}`, e]));
        const result: ImportResult = { rows: rows.length, created: 0, updated: 0, unchanged: 0 };
        const now = new Date();
        for (const r of rows) {
          const e = byKey.get(`${r.household}\u0000${r.category}`);
          if (!e) {
            em.create(RegistryEntry, {
              id: crypto.randomUUID(),
              household: r.household,
              category: r.category,
              gridId: r.grid,
              name: this.deps.key.encryptText(r.name),
              phone: r.phone === null ? null : this.deps.key.encryptText(r.phone),
              idNumber: r.idNumber === null ? null : this.deps.key.encryptText(r.idNumber),
              address: this.deps.key.encryptText(r.address),
              cycle: r.cycle,
              since: r.since ?? today,
              active: r.active,
              createdAt: now,
              updatedAt: now,
              updatedBy: actor,
            });
            result.created++;
          } else if (this.apply(e, r)) {
            e.updatedAt = now;
            e.updatedBy = actor;
            result.updated++;
          } else result.unchanged++;
        }
        await this.auditIn(em, actor, 'registry.import', 'registry', { ...result, grids: [...new Set(rows.map((r) => r.grid))].sort() });
        return result;
      });
    } catch (e) {
      // Two imports of the same new household at once: the second finds the unique key taken.
      if (/unique/i.test(String((e as Error).message)) && !(e instanceof ProblemError)) throw conflict('another import registered some of these households at the same moment; upload the file again (nothing of it was imported)');
      throw e;
    }
  }

  private async auditIn(em: { getConnection(): { execute(sql: string, params: unknown[]): Promise<unknown> } }, actor: string, action: string, subject: string, data: Record<string, unknown>) {
    await em.getConnection().execute(`insert into audit_log (at, actor, action, subject, data) values (now(), ?, ?, ?, ?)`, [actor, action, subject, JSON.stringify(data)]);
  }

  /** A household belongs to one grid, and a grid role may not take over another grid's household. */
  private againstRegister({ rows, at, unit }: RegistryRead, existing: RegistryEntry[], scope: RegistryScope) {
    const problems: ImportError[] = [];
    const inFile = new Set(rows.map((r) => `${r.household}\u0000${r.category}`));
    const reported = new Set<string>();
    for (const r of rows) {
      for (const e of existing.filter((x) => x.household === r.household)) {
        if (!inScope(scope, e.gridId)) {
          // Another community's register says nothing of its households to this one.
          const sameCommunity = scope !== 'all' && scope.some((g) => communityOfGrid(g) === communityOfGrid(e.gridId));
          problems.push({
            ...at(r.line, 'grid'),
            message: sameCommunity
              ? `household ${r.household} is registered in ${e.gridId} (${e.category}), not one of your grids; a manager moves households between grids`
              : `household number ${r.household} is taken in another community's register; check the number`,
          });
          break;
        }
        const stays = !inFile.has(`${e.household}\u0000${e.category}`);
        if (stays && e.gridId !== r.grid && !reported.has(r.household)) {
          reported.add(r.household);
          problems.push({
            ...at(r.line, 'grid'),
            message: `household ${r.household} is registered in ${e.gridId} as ${e.category}; a household belongs to one grid: list its ${e.category} ${unit} with ${r.grid} too, or correct the grid`,
          });
        }
      }
    }
    return problems;
  }

  /** Copies an import row onto an entry; whether anything changed. An empty date keeps the registered one. */
  private apply(e: RegistryEntry, r: ImportRow): boolean {
    let changed = false;
    for (const field of ['name', 'phone', 'idNumber', 'address'] as const) {
      const v = r[field];
      if (v !== this.clear(e[field])) {
        e[field] = (v === null ? null : this.deps.key.encryptText(v)) as string;
        changed = true;
      }
    }
    const next = { gridId: r.grid, cycle: r.cycle, since: r.since ?? e.since, active: r.active };
    if (e.gridId !== next.gridId || (e.cycle ?? null) !== next.cycle || e.since !== next.since || e.active !== next.active) {
      Object.assign(e, next);
      changed = true;
    }
    return changed;
  }

  // -------------------------------------------------------------------------------------------
  // Rounds and coverage

  /** Non-personal fields of the active entries in `categories`: what the fan-out and coverage need. */
  private async households(categories: string[], grids?: string[]) {
    const where: Record<string, unknown> = { active: true, category: { $in: categories } };
    if (grids) where.gridId = { $in: grids };
    return this.deps.orm.em.fork().find(RegistryEntry, where, { fields: ['id', 'household', 'category', 'gridId', 'cycle', 'since', 'active'], orderBy: { gridId: 'asc', household: 'asc' } });
  }

  private async rounds(definition: string, from: string, zone: string, q: { grids?: string[]; households?: string[] }): Promise<RoundRow[]> {
    // A round that covers a cycle starts at most a cycle (and a moved run's few days) before it ends.
    return registryRounds(this.deps.orm, { definition, startedFrom: new Date(Date.parse(`${addDays(from, -40)}T00:00:00Z`)), ...q });
  }

  /**
   * The households a run of `definition` on `day` starts: those not yet visited in their cycle,
   * less those whose round for the cycle the read model already has (`existing`: starting them
   * again would only find them, one Temporal call and query each).
   */
  async due(definition: string, spec: RegistryFanOut, day: string, zone: string): Promise<{ rounds: HouseholdRound[]; existing: string[] }> {
    const entries = await this.households(spec.categories);
    if (!entries.length) return { rounds: [], existing: [] };
    const rows = await this.rounds(definition, day, zone, { households: [...new Set(entries.map((e) => e.household))] });
    const visits = rows.filter((r) => r.status === 'completed' && r.endedAt && spec.visitedStates.includes(r.state)).map((r) => ({ household: r.household, day: localDate(new Date(r.endedAt as Date).getTime(), zone) }));
    const input = entries.map((e) => ({ household: e.household, grid: e.gridId, category: e.category, cycle: e.cycle ?? null, since: e.since, active: e.active }));
    const started = new Map(rows.map((r) => [`${r.household}\u0000${r.cycle}`, r.workflowId]));
    const rounds: HouseholdRound[] = [];
    const existing: string[] = [];
    for (const round of roundsFor(spec, input, visits, day, this.deps.calendar).due) {
      const found = started.get(`${round.household}\u0000${round.cycle}`);
      if (found) existing.push(found);
      else rounds.push(round);
    }
    return { rounds, existing };
  }

  /** The latest version of the definition that fans out over the register, by key or the first one. */
  private async fanOutDefinition(key?: string) {
    const keys = key ? [key] : await this.deps.definitions.keys();
    const statuses = await this.deps.definitions.statuses();
    const found = [];
    for (const k of keys) {
      const def = await this.deps.definitions.get(k);
      const spec = def.document.schedule?.forEach?.registry;
      if (spec && statuses.get(k)?.status !== 'retired') found.push({ def, spec });
      else if (key) throw badRequest(`definition "${key}" does not fan out over the registry (no schedule.forEach.registry${spec ? '; it is retired' : ''})`, [{ path: 'definition', message: 'name a definition whose schedule has forEach.registry' }]);
    }
    if (!found.length) throw notFound('no definition fans out over the registry yet; publish one (see definitions/examples/care-visit.definition.yaml)');
    return found[0];
  }

  /**
   * 入户全覆盖: per grid and category, who was visited in the cycle and who is pending or overdue.
   * `ref` is a day (each entry judged on its own cycle holding it; default today), a week
   * (`2026-W49`: the weekly entries) or a month (`2026-12`: the monthly ones).
   */
  async coverage(scope: RegistryScope, q: { ref?: string; definition?: string; grid?: string; category?: string }, now = Date.now()): Promise<Coverage> {
    const { def, spec } = await this.fanOutDefinition(q.definition);
    const zone = def.compiled.zone;
    const today = localDate(now, zone);
    const ref = q.ref ?? today;
    const fixed = isDate(ref) ? undefined : parseCycle(ref);
    if (!isDate(ref) && !fixed) throw badRequest(`cycle "${ref}" is not a day, a week or a month; use 2026-12-03, 2026-W49 or 2026-12`, [{ path: 'cycle', message: 'use YYYY-MM-DD, YYYY-Www or YYYY-MM' }]);
    if (q.category && !spec.categories.includes(q.category)) {
      throw badRequest(`"${def.key}" does not visit category "${q.category}"; it visits ${spec.categories.join(', ')}`, [{ path: 'category', message: `one of ${spec.categories.join(', ')}` }]);
    }
    const grids = scope === 'all' ? (q.grid ? [q.grid] : undefined) : q.grid ? scope.filter((g) => g === q.grid) : scope;
    const entries = (await this.households(q.category ? [q.category] : spec.categories, grids)).filter((e) => !fixed || periodOf(spec, e) === fixed.period);
    const cycleFor = (period: VisitPeriod): Cycle => fixed ?? cycleOf(period, ref);
    const earliest = entries.reduce((d, e) => (cycleFor(periodOf(spec, e)).start < d ? cycleFor(periodOf(spec, e)).start : d), fixed?.start ?? ref);
    const rows = entries.length ? await this.rounds(def.key, earliest, zone, { households: [...new Set(entries.map((e) => e.household))] }) : [];
    const records: RoundRecord[] = rows.map((r) => ({
      household: r.household,
      workflowId: r.workflowId,
      cycle: r.cycle,
      running: r.status === 'running',
      visited: r.status === 'completed' && spec.visitedStates.includes(r.state),
      ...(r.endedAt ? { endedOn: localDate(new Date(r.endedAt).getTime(), zone) } : {}),
      ...(r.dueAt ? { dueAt: new Date(r.dueAt).getTime() } : {}),
    }));
    // Names are shown masked, as in the list; they are read only for the entries shown.
    const names = new Map((await this.deps.orm.em.fork().find(RegistryEntry, { id: { $in: entries.map((e) => e.id) } }, { fields: ['id', 'name'] })).map((e) => [e.id, maskName(this.clear(e.name) ?? '')]));
    const groups = new Map<string, CoverageGroup>();
    for (const e of entries) {
      const period = periodOf(spec, e);
      const cycle = cycleFor(period);
      const c = coverageOf(e, cycle, records, today, now);
      if (!c) continue;
      const key = `${e.gridId}\u0000${e.category}\u0000${cycle.id}`;
      const g = groups.get(key) ?? groups.set(key, { grid: e.gridId, category: e.category, period, cycle: cycle.id, total: 0, visited: 0, pending: 0, overdue: 0, rate: null, entries: [] }).get(key) as CoverageGroup;
      g.total++;
      g[c.status]++;
      g.entries.push({ id: e.id, household: e.household, name: names.get(e.id) ?? '*', ...c });
    }
    const order = (c: string) => REGISTRY_CATEGORIES.indexOf(c as (typeof REGISTRY_CATEGORIES)[number]);
    const list = [...groups.values()].sort((a, b) => a.grid.localeCompare(b.grid) || order(a.category) - order(b.category) || a.cycle.localeCompare(b.cycle));
    for (const g of list) g.rate = g.total ? g.visited / g.total : null;
    const sum = (k: 'total' | 'visited' | 'pending' | 'overdue') => list.reduce((n, g) => n + g[k], 0);
    const total = sum('total');
    return {
      definition: def.key,
      version: def.version,
      cycle: ref,
      today,
      cycles: fixed ? { [fixed.period]: fixed } : { weekly: cycleOf('weekly', ref), monthly: cycleOf('monthly', ref) },
      totals: { total, visited: sum('visited'), pending: sum('pending'), overdue: sum('overdue'), rate: total ? sum('visited') / total : null },
      groups: list,
    };
  }
}
