/**
 * Engine benchmark (issues 8 and 14): gridflow's interpreter against a hand-written Temporal
 * workflow, in the same run. `npm run bench` starts a Temporal dev server and an embedded PostgreSQL
 * in a temp dir, runs seven measurements, prints a Markdown table, writes bench/results/engine.json and puts
 * the table in README.md between the bench markers.
 *
 * Environment: BENCH_QUICK=1 (a small run in a few minutes; results go to engine-quick.json and the
 * README is left alone), BENCH_N (2000), BENCH_CONCURRENCY (20), BENCH_ROUNDS (4),
 * BENCH_ONLY=engine,api,transition,replay,memory,read,load (a subset), BENCH_MAX_CACHED (6000),
 * BENCH_LOAD_N (200 issues per variant in the closed loop, as issue 14 measured), BENCH_LOAD_LANES (10), BENCH_LOAD_ROUNDS (4),
 * BENCH_KEEP=1 keeps the temp dir; BENCH_RENDER=1 only writes the README's table again from engine.json.
 * See bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../config/config';
import { compileDefinition } from '../engine/compile';
import { findTemporalCli } from '../infra/temporal';
import { ReadmeSection } from '../scripts/readme-section';
import { DefinitionService } from '../services/definitions.service';
import { apiPath, readApi } from './lib/api';
import { engineOverhead } from './lib/engine';
import { childEnv, forkChild, log, startBenchEnv } from './lib/env';
import { parkedMemory } from './lib/memory';
import { closedLoop } from './lib/load';
import { FIVE_EVENTS, IMPLS, starter } from './lib/paths';
import { replayCost } from './lib/replay';
import { transitionCost } from './lib/transition';
import { renderTable, type EngineBenchResults } from './lib/report';

const quick = process.env.BENCH_QUICK === '1';
const num = (name: string, full: number, small: number) => Number(process.env[name] ?? (quick ? small : full));
const cfg = {
  n: num('BENCH_N', 2000, 200),
  concurrency: num('BENCH_CONCURRENCY', 20, 20),
  rounds: num('BENCH_ROUNDS', 8, 2),
  apiIdleProcesses: num('BENCH_API_IDLE_N', 40, 10),
  apiProcesses: num('BENCH_API_N', 200, 60),
  apiConcurrency: num('BENCH_API_CONCURRENCY', 10, 10),
  transitionPaths: num('BENCH_TRANSITION_PATHS', 2000, 500),
  replaySizes: quick ? [100, 1000] : [100, 1000, 5000],
  replayRounds: num('BENCH_REPLAY_ROUNDS', 5, 3),
  memoryLevels: quick ? [200, 1000] : [1000, 5000],
  maxCached: num('BENCH_MAX_CACHED', 6000, 6000),
  readInstances: num('BENCH_INSTANCES', 200_000, 20_000),
  readConnections: num('BENCH_CONNECTIONS', 10, 10),
  readSeconds: num('BENCH_SECONDS', 8, 3),
  readRounds: num('BENCH_READ_ROUNDS', 3, 2),
  loadIssues: num('BENCH_LOAD_N', 200, 30),
  loadLanes: num('BENCH_LOAD_LANES', 10, 10),
  loadRounds: num('BENCH_LOAD_ROUNDS', 4, 1),
};
const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : undefined;
const want = (m: string) => !only || only.has(m);

async function main() {
  const began = Date.now();
  // Before anything of the bench starts: what else was running shows here.
  const loadBefore = os.loadavg()[0];
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const env = await startBenchEnv();
  const cli = findTemporalCli(loadConfig().cacheDir);
  const results: EngineBenchResults = {
    at: new Date().toISOString(),
    quick,
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      memoryGb: Math.round(os.totalmem() / 1024 ** 3),
      node: process.version,
      os: `${os.type()} ${os.release()}`,
      postgres: env.postgresVersion,
      temporalCli: cli ? execFileSync(cli, ['--version']).toString().trim() : 'unknown',
      load: { began: loadBefore },
    },
    config: cfg,
  };
  const out = path.join(__dirname, 'results', quick || only ? 'engine-quick.json' : 'engine.json');
  const save = () => {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  };
  try {
    const calendar = DefinitionService.readCalendar();
    const loaded = await new DefinitionService(env.orm).get('issue');
    const issue = { key: loaded.key, version: loaded.version, document: loaded.document };
    const run = `${Date.now().toString(36)}`;

    if (want('transition')) {
      log('3. transition cost');
      results.transition = transitionCost(compileDefinition(issue.document, calendar), { paths: cfg.transitionPaths, rounds: 7 });
      save();
    }

    // One worker process per implementation, each with its own bundle and task queue; the rounds
    // alternate, so only one of them is busy at a time.
    const queues = { interpreter: `bench-${run}-interpreter`, 'hand-written': `bench-${run}-hand-written` };
    const needWorker = want('engine') || want('api') || want('replay');
    const workers = needWorker ? await Promise.all(IMPLS.map((impl) => forkChild('worker-child.ts', childEnv(env, { BENCH_TASK_QUEUE: queues[impl], BENCH_BUNDLE: env.bundles[impl].path })))) : [];
    if (workers.length) log(`bench workers running on ${Object.values(queues).join(' and ')} (sticky cache ${workers[0].ready.maxCached as number})`);
    const start = starter(env.client, queues, issue, calendar);
    try {
      if (want('engine')) {
        log(`1. engine overhead: ${cfg.n} processes each, concurrency ${cfg.concurrency}, ${cfg.rounds} rounds`);
        results.engine = await engineOverhead(start, { n: cfg.n, concurrency: cfg.concurrency, rounds: cfg.rounds, prefix: `bench/${run}/engine`, pids: { workers: { interpreter: workers[0]?.process.pid, 'hand-written': workers[1]?.process.pid }, server: env.temporalPid } });
        save();
      }
      if (want('api')) {
        log(`2. through the API: ${cfg.apiIdleProcesses} processes one at a time, then ${cfg.apiProcesses} with concurrency ${cfg.apiConcurrency}`);
        results.apiIdle = await apiPath(env, start, queues.interpreter, { n: cfg.apiIdleProcesses, concurrency: 1, rounds: 2, prefix: `bench/${run}/api-idle-baseline` });
        results.apiPaced = await apiPath(env, start, queues.interpreter, { n: cfg.apiIdleProcesses, concurrency: 1, rounds: 2, prefix: `bench/${run}/api-paced-baseline`, pauseMs: 250 });
        save();
        results.api = await apiPath(env, start, queues.interpreter, { n: cfg.apiProcesses, concurrency: cfg.apiConcurrency, rounds: 2, prefix: `bench/${run}/api-baseline` });
        save();
      }
      if (want('replay')) {
        log(`4. replay cost: histories of ${cfg.replaySizes.join(', ')} events`);
        results.replay = await replayCost(env.client, start, { sizes: cfg.replaySizes, rounds: cfg.replayRounds, copies: 3, prefix: `bench/${run}/replay`, bundles: env.bundles, codec: env.codec });
        save();
      }
    } finally {
      for (const w of workers) await w.stop();
    }
    if (want('load')) {
      log(`7. closed loop through the API: ${cfg.loadIssues} issues x ${FIVE_EVENTS.length} events per variant, ${cfg.loadLanes} lanes, SQLite file stores`);
      results.load = await closedLoop(env, { issues: cfg.loadIssues, lanes: cfg.loadLanes, rounds: cfg.loadRounds });
      save();
    }
    if (want('read')) {
      log(`6. read API: ${cfg.readInstances} instances, ${cfg.readConnections} connections`);
      results.read = await readApi(env, { instances: cfg.readInstances, connections: cfg.readConnections, seconds: cfg.readSeconds, rounds: cfg.readRounds });
      save();
    }
    if (want('memory')) {
      log(`5. memory: ${cfg.memoryLevels.join(' and ')} parked instances, sticky cache ${cfg.maxCached}`);
      results.memory = await parkedMemory(env, env.orm, issue, calendar, { levels: cfg.memoryLevels, maxCached: cfg.maxCached, prefix: `bench-${run}-mem` });
      save();
    }
  } finally {
    await env.stop();
  }
  results.minutes = Math.round((Date.now() - began) / 6000) / 10;
  if (results.machine.load) results.machine.load.ended = os.loadavg()[0];
  save();
  const table = renderTable(results);
  process.stdout.write(`${table}\n`);
  log(`wrote ${out}`);
  if (!quick && !only) writeReadme(table);
}

/** The README's performance table is this table (test/unit/readme-bench.test.ts checks it is engine.json's). */
function writeReadme(table: string): void {
  new ReadmeSection('bench').write(table);
  log('README.md updated between the bench markers');
}

/** BENCH_RENDER=1: the README's table again from bench/results/engine.json, measuring nothing (after a change of wording). */
async function render(): Promise<void> {
  writeReadme(renderTable(JSON.parse(fs.readFileSync(path.join(__dirname, 'results', 'engine.json'), 'utf8')) as EngineBenchResults));
}

(process.env.BENCH_RENDER === '1' ? render : main)().catch((e) => {
  console.error(e);
  process.exit(1);
});
