import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import type { DefinitionDocument } from '../../engine/document.schema';
import type { WorkCalendar } from '../../engine/calendar';
import { childEnv, forkChild, log, pool, type BenchEnv } from './env';
import { IMPLS, starter, type Impl } from './paths';

interface Mem {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

export interface MemoryPoint {
  parked: number;
  cached: number;
  rssMb: number;
  heapUsedMb: number;
  externalMb: number;
}

export interface MemoryResult {
  maxCachedWorkflows: number;
  byImpl: Record<Impl, { base: MemoryPoint; points: MemoryPoint[]; perInstanceKb: { parked: number; rssKb: number; heapKb: number }[]; crashed: boolean }>;
}

const MB = 1024 * 1024;

/**
 * Measurement 5: a fresh worker process per implementation (its own task queue, sticky cache of
 * `maxCached`), instances started and left parked in `reported` waiting for ACCEPT, the worker's
 * memory read after a full GC at each level. Per instance = growth over the warm worker / count.
 */
export async function parkedMemory(env: BenchEnv, orm: MikroORM, issue: { key: string; version: number; document: DefinitionDocument }, calendar: WorkCalendar, opts: { levels: number[]; maxCached: number; prefix: string }): Promise<MemoryResult> {
  const byImpl = {} as MemoryResult['byImpl'];
  for (const impl of IMPLS) {
    const taskQueue = `${opts.prefix}-${impl}`;
    const worker = await forkChild('worker-child.ts', childEnv(env, { BENCH_TASK_QUEUE: taskQueue, BENCH_BUNDLE: env.bundles[impl].path, BENCH_MAX_CACHED: String(opts.maxCached) }), ['--expose-gc']);
    let crashed = false;
    worker.process.once('exit', (code) => {
      crashed = code !== 0;
    });
    const start = starter(env.client as Client, { interpreter: taskQueue, 'hand-written': taskQueue }, issue, calendar);
    const read = async (parked: number): Promise<MemoryPoint> => {
      const m = await worker.request<{ memory: Mem; cached: number }>({ type: 'memory' }, 'memory');
      const r1 = (n: number) => Math.round((n / MB) * 10) / 10;
      return { parked, cached: m.cached, rssMb: r1(m.memory.rss), heapUsedMb: r1(m.memory.heapUsed), externalMb: r1(m.memory.external) };
    };
    const prefix = `${opts.prefix}/${impl}/`;
    let started = 0;
    const park = async (upTo: number) => {
      await pool(upTo - started, 20, async (i) => {
        await start(impl, `${prefix}${started + i}`);
      });
      started = upTo;
      // Parked: every instance has run its first workflow task and projected its first step.
      for (;;) {
        const [{ n }] = await orm.em.fork().getConnection().execute<{ n: string }[]>(`select count(*) as n from process_instance where workflow_id like ?`, [`${prefix}%`]);
        if (Number(n) >= upTo || crashed) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      await new Promise((r) => setTimeout(r, 2000));
    };
    const warm = 20;
    await park(warm);
    const base = await read(warm);
    const points: MemoryPoint[] = [];
    for (const level of opts.levels) {
      if (crashed) break;
      const t0 = Date.now();
      await park(level);
      const p = await read(level);
      points.push(p);
      log(`memory ${impl}: ${level} parked (${p.cached} cached) rss ${p.rssMb} MB heap ${p.heapUsedMb} MB (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    }
    const perInstanceKb = points.map((p) => ({
      parked: p.parked,
      rssKb: Math.round(((p.rssMb - base.rssMb) * 1024) / (p.parked - warm)),
      heapKb: Math.round(((p.heapUsedMb - base.heapUsedMb) * 1024) / (p.parked - warm)),
    }));
    byImpl[impl] = { base, points, perInstanceKb, crashed };
    await worker.stop();
  }
  return { maxCachedWorkflows: opts.maxCached, byImpl };
}
