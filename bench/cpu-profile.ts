/**
 * Summarises a V8 CPU profile (`--cpu-prof`, see BENCH_CPU_PROF in bench/lib/load.ts): the functions
 * with the most self and total time, in ms per request when the measured rounds are given.
 *
 *   npx ts-node --transpile-only bench/cpu-profile.ts <file.cpuprofile> [<dir>/rounds.jsonl:<impl>] [top] [regex]
 *
 * With `rounds.jsonl:<impl>` (or `<impl>-<design>`) only the samples taken during that implementation's measured rounds
 * count (the closed loop writes their spans on the monotonic clock the profiles use), and times are
 * divided by its requests; `regex` keeps the functions whose `name file:line` matches.
 */
import fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}
interface Round {
  impl: string;
  design: string;
  fromUs: number;
  toUs: number;
  issues: number;
  requests?: number;
}

function main() {
  const [file, roundsArg, topArg, match] = process.argv.slice(2);
  if (!file) throw new Error('usage: bench/cpu-profile.ts <file.cpuprofile> [<rounds.jsonl>:<impl>] [top] [regex]');
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  let windows: { fromUs: number; toUs: number }[] = [{ fromUs: -Infinity, toUs: Infinity }];
  let requests = 0;
  if (roundsArg) {
    const at = roundsArg.lastIndexOf(':');
    const impl = roundsArg.slice(at + 1);
    const rounds = fs.readFileSync(roundsArg.slice(0, at), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Round).filter((r) => r.impl === impl || `${r.impl}-${r.design}` === impl);
    if (!rounds.length) throw new Error(`no rounds of "${impl}" in ${roundsArg.slice(0, at)}`);
    windows = rounds;
    requests = rounds.reduce((n, r) => n + (r.requests ?? r.issues * 6), 0);
  }
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // A sample's time is the delta to the next sample.
  const spent = new Map<number, number>();
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i];
    if (windows.some((w) => t >= w.fromUs && t <= w.toUs)) spent.set(p.samples[i], (spent.get(p.samples[i]) ?? 0) + (p.timeDeltas[i + 1] ?? 0) / 1000);
  }
  const name = (n: ProfileNode) =>
    `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/.*node_modules\//, '').replace(/^file:\/\/.*\/([^/]+-bundle\.js)$/, '$1').replace(`file://${process.cwd()}/`, '').replace(`${process.cwd()}/`, '')}:${n.callFrame.lineNumber + 1}`;
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let busy = 0;
  for (const n of p.nodes) {
    const ms = spent.get(n.id) ?? 0;
    if (!ms || n.callFrame.functionName === '(idle)') continue;
    busy += ms;
    self.set(name(n), (self.get(name(n)) ?? 0) + ms);
    // Each function once per sample, however deep it recurses.
    const seen = new Set<string>();
    for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
      const k = name(byId.get(id) as ProfileNode);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + ms);
    }
  }
  const per = (ms: number) => (requests ? (ms / requests).toFixed(3) : ms.toFixed(0));
  const top = Number(topArg ?? 30);
  const re = match ? new RegExp(match) : undefined;
  const out: string[] = [];
  out.push(`${file}: busy ${busy.toFixed(0)} ms${requests ? ` over ${requests} requests, ${per(busy)} ms a request` : ''}`);
  for (const [title, m] of [['self', self], ['total', total]] as const) {
    out.push(`-- top ${title}${requests ? ' (ms a request)' : ' (ms)'}`);
    const rows = [...m].filter(([k]) => !re || re.test(k)).sort((a, b) => b[1] - a[1]).slice(0, top);
    for (const [k, ms] of rows) out.push(`${per(ms).padStart(9)}  ${k}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

main();
