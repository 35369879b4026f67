/**
 * Meters for bench/district.ts: CPU seconds and bytes written per process group, read from /proc
 * (Linux only; NaN elsewhere), and PostgreSQL's own view of what it stored (database sizes, WAL).
 *
 * PostgreSQL is a postmaster and one process per connection plus its background processes: the
 * group is the postmaster and every child it has at the time of a sample. A child that exits
 * between two samples is counted through the postmaster's cutime/cstime (the CPU of reaped
 * children); its bytes written are lost, which matters little as the pools keep their connections.
 * Backends are split by the database they serve (pg_stat_activity), so in cluster mode the
 * Temporal server's share of PostgreSQL shows apart from gridflow's read model.
 */
import fs from 'node:fs';
import type { MikroORM } from '@mikro-orm/postgresql';

const TICK = 100; // USER_HZ on Linux

interface ProcStat {
  ppid: number;
  cpu: number;
  childCpu: number;
}

function procStat(pid: number): ProcStat | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
    return { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / TICK, childCpu: (Number(f[13]) + Number(f[14])) / TICK };
  } catch {
    return undefined;
  }
}

function written(pid: number): number {
  try {
    const m = /^write_bytes: (\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function childrenOf(parent: number): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = procStat(Number(name));
    if (s?.ppid === parent) out.push(Number(name));
  }
  return out;
}

/** The postmaster's pid, from the first line of postmaster.pid in its data directory. */
export function postmasterPid(dataDir: string): number {
  return Number(fs.readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
}

export interface Usage {
  cpuSeconds: number;
  writtenBytes: number;
}

interface Sample {
  at: bigint;
  single: Record<string, Usage>;
  pg: Map<number, Usage & { group: string }>;
  pgReaped: number;
  launcher: NodeJS.CpuUsage;
  sizes: Record<string, number>;
  walLsn: string;
  files: Record<string, number>;
}

export interface PhaseUsage {
  seconds: number;
  /** CPU and bytes written per process group: temporal, worker, api, launcher, postgres, and postgres by database. */
  groups: Record<string, Usage>;
  /** Growth of each database (pg_database_size) and of the WAL (pg_wal_lsn_diff), bytes. */
  databaseGrowth: Record<string, number>;
  walBytes: number;
  /** Growth of files outside PostgreSQL (the dev server's SQLite store with its -wal), bytes. */
  fileGrowth: Record<string, number>;
}

export class Meter {
  constructor(
    private readonly o: {
      orm: MikroORM;
      postmaster: number;
      /** Process groups of one or more pids each: temporal, worker, api. */
      pids: Record<string, number[]>;
      /** Files whose size to follow (a SQLite store grows by its -wal file first). */
      files?: Record<string, string[]>;
    },
  ) {}

  private async pgGroups(): Promise<Map<number, string>> {
    const rows = await this.o.orm.em.fork().getConnection().execute<{ pid: number; datname: string | null }[]>('select pid, datname from pg_stat_activity');
    return new Map(rows.map((r) => [Number(r.pid), r.datname ? `postgres:${r.datname.startsWith('temporal') ? r.datname : 'gridflow'}` : 'postgres:background']));
  }

  async sample(): Promise<Sample> {
    const byDb = await this.pgGroups();
    const pg = new Map<number, Usage & { group: string }>();
    const pm = procStat(this.o.postmaster);
    pg.set(this.o.postmaster, { cpuSeconds: pm?.cpu ?? NaN, writtenBytes: written(this.o.postmaster), group: 'postgres:background' });
    for (const pid of childrenOf(this.o.postmaster)) {
      const s = procStat(pid);
      if (s) pg.set(pid, { cpuSeconds: s.cpu, writtenBytes: written(pid), group: byDb.get(pid) ?? 'postgres:background' });
    }
    const single: Record<string, Usage> = {};
    for (const [name, pids] of Object.entries(this.o.pids)) {
      single[name] = { cpuSeconds: pids.reduce((s, p) => s + (procStat(p)?.cpu ?? NaN), 0), writtenBytes: pids.reduce((s, p) => s + written(p), 0) };
    }
    const conn = this.o.orm.em.fork().getConnection();
    const sizes = Object.fromEntries(
      (await conn.execute<{ datname: string; size: string }[]>("select datname, pg_database_size(datname) as size from pg_database where not datistemplate and datname <> 'postgres'")).map((r) => [r.datname, Number(r.size)]),
    );
    const [{ lsn }] = await conn.execute<{ lsn: string }[]>('select pg_current_wal_lsn()::text as lsn');
    const files: Record<string, number> = {};
    for (const [name, paths] of Object.entries(this.o.files ?? {})) files[name] = paths.reduce((s, p) => s + (fs.existsSync(p) ? fs.statSync(p).size : 0), 0);
    return { at: process.hrtime.bigint(), single, pg, pgReaped: pm?.childCpu ?? 0, launcher: process.cpuUsage(), sizes, walLsn: lsn, files };
  }

  async between(a: Sample, b: Sample): Promise<PhaseUsage> {
    const groups: Record<string, Usage> = {};
    const add = (g: string, u: Usage) => {
      const x = (groups[g] ??= { cpuSeconds: 0, writtenBytes: 0 });
      x.cpuSeconds += u.cpuSeconds;
      x.writtenBytes += u.writtenBytes;
    };
    for (const name of Object.keys(b.single)) add(name, { cpuSeconds: b.single[name].cpuSeconds - a.single[name].cpuSeconds, writtenBytes: b.single[name].writtenBytes - a.single[name].writtenBytes });
    for (const [pid, u] of b.pg) {
      const before = a.pg.get(pid) ?? { cpuSeconds: 0, writtenBytes: 0 };
      const d = { cpuSeconds: u.cpuSeconds - before.cpuSeconds, writtenBytes: u.writtenBytes - before.writtenBytes };
      add(u.group, d);
      add('postgres', d);
    }
    const reaped = { cpuSeconds: b.pgReaped - a.pgReaped, writtenBytes: 0 };
    add('postgres:background', reaped);
    add('postgres', reaped);
    const l = { cpuSeconds: (b.launcher.user + b.launcher.system - a.launcher.user - a.launcher.system) / 1e6, writtenBytes: 0 };
    add('launcher', l);
    const [{ wal }] = await this.o.orm.em.fork().getConnection().execute<{ wal: string }[]>(`select pg_wal_lsn_diff('${b.walLsn}', '${a.walLsn}') as wal`);
    const databaseGrowth = Object.fromEntries(Object.keys(b.sizes).map((k) => [k, b.sizes[k] - (a.sizes[k] ?? 0)]));
    const fileGrowth = Object.fromEntries(Object.keys(b.files).map((k) => [k, b.files[k] - (a.files[k] ?? 0)]));
    for (const g of Object.values(groups)) g.cpuSeconds = Math.round(g.cpuSeconds * 100) / 100;
    return { seconds: Math.round(Number(b.at - a.at) / 1e7) / 100, groups, databaseGrowth, walBytes: Number(wal), fileGrowth };
  }
}
