import type { MikroORM } from '@mikro-orm/postgresql';
import { migrate, openOrm } from '../../db/orm';
import { seedCommunity } from '../../db/community.seed';
import { load as loadReadModel } from '../read-model.bench';
import { childEnv, dist, forkChild, log, ms, pool, type BenchEnv, type Dist } from './env';
import { httpClient, load, memberTokens, type LoadResult } from './http';
import { ISSUE_INPUT, ISSUE_PATH, send, type Starter } from './paths';

export interface ApiPathResult {
  processes: number;
  concurrency: number;
  /** Pause before each event (not timed), as a person between taps. */
  pauseMs: number;
  api: { eventToWorkflowState: Dist; eventToReadModel: Dist; start: Dist };
  baseline: { event: Dist; start: Dist };
  ratio: { workflowP50: number; workflowP99: number; readModelP99: number };
}

/**
 * Measurement 2: the issue path over HTTP (POST /api/processes, POST /api/processes/:id/events),
 * alternating in rounds with the same path by the hand-written workflow through the Temporal client
 * (the baseline: no engine, no API). Per event: the time until POST /events answers (its body is
 * the workflow's own answer to the Update: the state from the workflow), and the time until
 * GET /api/processes?q=<id> (the read model) shows the new state.
 */
export async function apiPath(env: BenchEnv, start: Starter, taskQueue: string, opts: { n: number; concurrency: number; rounds: number; prefix: string; pauseMs?: number }): Promise<ApiPathResult> {
  const pause = () => (opts.pauseMs ? new Promise((res) => setTimeout(res, opts.pauseMs)) : Promise.resolve());
  const api = await forkChild('api-child.ts', childEnv(env, { GRIDFLOW_TASK_QUEUE: taskQueue }));
  const http = httpClient(`http://127.0.0.1:${api.ready.port as number}`, env.adminToken, opts.concurrency * 2);
  // Each event goes as the member whose it is; the read model is polled as admin.
  const tokens = await memberTokens(http, `${opts.prefix}/grid-03`, 'grid-03');
  const wf: number[] = [];
  const rm: number[] = [];
  const apiStart: number[] = [];
  const base: number[] = [];
  const baseStart: number[] = [];
  const per = Math.ceil(opts.n / opts.rounds);
  try {
    const viaApi = async () => {
      let t = process.hrtime.bigint();
      const started = await http.request('POST', '/api/processes', { definition: 'issue', grid: 'grid-03', input: ISSUE_INPUT }, tokens.worker);
      if (started.status !== 201) throw new Error(`POST /api/processes answered ${started.status}: ${started.body}`);
      apiStart.push(ms(t));
      const id = (JSON.parse(started.body) as { workflowId: string }).workflowId;
      for (const ev of ISSUE_PATH) {
        await pause();
        t = process.hrtime.bigint();
        const r = await http.request('POST', `/api/processes/${encodeURIComponent(id)}/events`, { type: ev.type, data: ev.data }, tokens[ev.who]);
        if (r.status !== 200) throw new Error(`POST events ${ev.type} answered ${r.status}: ${r.body}`);
        wf.push(ms(t));
        const want = (JSON.parse(r.body) as { state: string }).state;
        for (;;) {
          const l = await http.request('GET', `/api/processes?q=${encodeURIComponent(id)}&limit=5`);
          const items = (JSON.parse(l.body) as { items: { workflowId: string; state: string }[] }).items;
          if (items.some((i) => i.workflowId === id && i.state === want)) break;
          await new Promise((res) => setTimeout(res, 2));
        }
        rm.push(ms(t));
      }
    };
    const viaClient = async (id: string) => {
      let t = process.hrtime.bigint();
      const h = await start('hand-written', id);
      baseStart.push(ms(t));
      for (const ev of ISSUE_PATH) {
        await pause();
        t = process.hrtime.bigint();
        await send(h, ev);
        base.push(ms(t));
      }
    };
    await pool(opts.concurrency, opts.concurrency, () => viaApi()); // warm-up
    wf.length = rm.length = apiStart.length = 0;
    for (let r = 0; r < opts.rounds; r++) {
      const first = r % 2 === 0;
      if (first) await pool(per, opts.concurrency, () => viaApi());
      await pool(per, opts.concurrency, (i) => viaClient(`${opts.prefix}/${r}/${i}`));
      if (!first) await pool(per, opts.concurrency, () => viaApi());
      log(`api path round ${r + 1}/${opts.rounds} done`);
    }
  } finally {
    http.agent.destroy();
    await api.stop();
  }
  const q = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  const result = {
    processes: per * opts.rounds,
    concurrency: opts.concurrency,
    pauseMs: opts.pauseMs ?? 0,
    api: { eventToWorkflowState: dist(wf), eventToReadModel: dist(rm), start: dist(apiStart) },
    baseline: { event: dist(base), start: dist(baseStart) },
  };
  return { ...result, ratio: { workflowP50: q(result.api.eventToWorkflowState.p50, result.baseline.event.p50), workflowP99: q(result.api.eventToWorkflowState.p99, result.baseline.event.p99), readModelP99: q(result.api.eventToReadModel.p99, result.baseline.event.p99) } };
}

export interface ReadApiResult {
  instances: number;
  connections: number;
  secondsPerRun: number;
  rounds: number;
  runs: Record<'healthz' | 'list' | 'detail', LoadResult[]>;
  summary: Record<'healthz' | 'list' | 'detail', { perSecond: number; p50: number; p99: number; errors: number }>;
}

/**
 * Measurement 6: a second database with the read-model benchmark's 200,000 instances, the API on
 * it, and a closed-loop load generator on loopback: GET /api/processes (first page, no filter),
 * GET /api/processes/:id (random ended instances: read model and history, no Temporal query) and
 * the baseline GET /healthz (the same server, Express and the connection, no auth, no database).
 */
export async function readApi(env: BenchEnv, opts: { instances: number; connections: number; seconds: number; rounds: number }): Promise<ReadApiResult> {
  const url = await env.createDatabase('bench_read');
  const orm: MikroORM = await openOrm(url);
  let ids: string[];
  try {
    await migrate(orm);
    await seedCommunity(orm);
    const t0 = Date.now();
    const loaded = await loadReadModel(orm, Date.now(), opts.instances);
    const conn = orm.em.fork().getConnection();
    await conn.execute('vacuum analyze process_instance');
    await conn.execute('vacuum analyze transition_record');
    log(`read API: loaded ${loaded.instances} instances, ${loaded.transitions} transitions in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    ids = (await conn.execute<{ workflow_id: string }[]>(`select workflow_id from process_instance where status <> 'running' order by random() limit 5000`)).map((r) => r.workflow_id);
  } finally {
    await orm.close();
  }
  const api = await forkChild('api-child.ts', childEnv(env, { DATABASE_URL: url, GRIDFLOW_TASK_QUEUE: 'bench-read-none' }));
  const http = httpClient(`http://127.0.0.1:${api.ready.port as number}`, env.adminToken, opts.connections);
  const targets = {
    healthz: () => '/healthz',
    list: () => '/api/processes',
    detail: () => `/api/processes/${encodeURIComponent(ids[Math.floor(Math.random() * ids.length)])}`,
  };
  const runs: ReadApiResult['runs'] = { healthz: [], list: [], detail: [] };
  try {
    for (const k of Object.keys(targets) as (keyof typeof targets)[]) await load(http, opts.connections, 2, targets[k]); // warm-up
    for (let r = 0; r < opts.rounds; r++) {
      const order = (r % 2 === 0 ? ['healthz', 'list', 'detail'] : ['detail', 'list', 'healthz']) as (keyof typeof targets)[];
      for (const k of order) {
        const res = await load(http, opts.connections, opts.seconds, targets[k]);
        runs[k].push(res);
        log(`read API ${k}: ${res.perSecond}/s p50 ${res.latency.p50} ms p99 ${res.latency.p99} ms errors ${res.errors}`);
      }
    }
  } finally {
    http.agent.destroy();
    await api.stop();
  }
  const summary = {} as ReadApiResult['summary'];
  for (const k of Object.keys(runs) as (keyof typeof runs)[]) {
    const rs = runs[k];
    const requests = rs.reduce((s, x) => s + x.requests, 0);
    const seconds = rs.reduce((s, x) => s + x.seconds, 0);
    // p99 over all rounds: the worst round's p99 is the honest figure on a shared machine.
    const p50s = rs.map((x) => x.latency.p50).sort((a, b) => a - b);
    summary[k] = { perSecond: Math.round(requests / seconds), p50: p50s[Math.floor(p50s.length / 2)], p99: Math.max(...rs.map((x) => x.latency.p99)), errors: rs.reduce((s, x) => s + x.errors, 0) };
  }
  return { instances: opts.instances, connections: opts.connections, secondsPerRun: opts.seconds, rounds: opts.rounds, runs, summary };
}
