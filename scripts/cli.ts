import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadCliConfig } from '../config/config';
import { checkCalendar } from '../engine/calendar';
import { compileDefinition } from '../engine/compile';
import { simulate, SimulationError, type SimulationEvent } from '../engine/simulate';
import { validateText } from '../engine/validate';
import { projectRoot } from '../infra/paths';

/**
 * `gridflow`: the definition tools for ops who keep definitions in git.
 * validate and simulate work on a file, offline; publish, diff and migrate talk to the API
 * (GRIDFLOW_URL, default http://127.0.0.1:3000, and GRIDFLOW_TOKEN).
 */

const USAGE = `usage: gridflow <command> [options]

  validate <file>                         check a definition document (YAML or JSON); exit 1 when invalid
  simulate <file> --events <file>         run it on a virtual clock against timed events (JSON or YAML list
           [--input <json>] [--grid g]    of { at, type, data? }) and print every step
           [--until <time>]
  publish <file> [--note "why"]           store it as the next version (needs the API); its schedule follows at once
  pause <key> [--note "why"]              pause a definition: its schedule starts nothing
  resume <key> [--note "why"]             resume a paused or retired definition
  retire <key> [--note "why"]             retire a definition: schedule deleted, no new processes
  diff <key> --from N --to M              structural differences and the running instances affected
  migrate <key> --from N --to M           move running instances of version N to M
          [--map state=target ...] [--ids id,id] [--dry-run]
  token create --role R [--member m-grid-03-worker] [--grids grid-03,...] [--community linyuan] [--street xinhuaxi] [--name N] [--days 90]
                                          create an API token (admin); it is printed once
  token revoke <id>                       revoke a token (admin)
  identity link --member M --provider oidc|wecom --subject S
                                          link a sign-in account (the ID token's sub, the WeCom userid) to a member (admin)
  identity unlink --member M --provider P --subject S
                                          unlink it (admin); the sessions it opened end
  sessions <member>                       a member's console sessions (managers; a grid leader for their grid)
  session revoke <id>                     revoke a console session: its next request is refused

environment: GRIDFLOW_URL (default http://127.0.0.1:3000), GRIDFLOW_TOKEN (or .data/admin-token)`;

class UsageError extends Error {}

interface Parsed {
  positional: string[];
  flags: Record<string, string[]>;
}

function parseArgs(argv: string[]): Parsed {
  const out: Parsed = { positional: [], flags: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const [name, inline] = a.slice(2).split('=', 2);
      const boolean = name === 'dry-run' || name === 'json' || name === 'help';
      const value = inline ?? (boolean ? 'true' : argv[++i]);
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      (out.flags[name] ??= []).push(value);
    } else out.positional.push(a);
  }
  return out;
}

const flag = (p: Parsed, name: string) => p.flags[name]?.at(-1);
function need(p: Parsed, name: string): string {
  const v = flag(p, name);
  if (v === undefined) throw new UsageError(`--${name} is required`);
  return v;
}
function int(p: Parsed, name: string): number {
  const v = Number(need(p, name));
  if (!Number.isInteger(v) || v < 1) throw new UsageError(`--${name} must be a version number (1, 2, ...)`);
  return v;
}

function readFile(file: string | undefined): string {
  if (!file) throw new UsageError('name a file');
  if (!fs.existsSync(file)) throw new UsageError(`${file}: no such file`);
  return fs.readFileSync(file, 'utf8');
}

/** The line of a JSON path in YAML text, best effort: the line of its last key. */
function lineOf(text: string, jsonPath: string): number | undefined {
  const parts = jsonPath.split('.').filter((p) => p !== '$' && !/^\d+$/.test(p));
  let from = 0;
  const lines = text.split('\n');
  let found: number | undefined;
  for (const part of parts) {
    const re = new RegExp(`^\\s*(-\\s*)?["']?${part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["']?\\s*:`);
    const idx = lines.findIndex((l, i) => i >= from && re.test(l));
    if (idx < 0) break;
    found = idx + 1;
    from = idx + 1;
  }
  return found;
}

function print(out: NodeJS.WritableStream, value: unknown) {
  out.write(`${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}\n`);
}

function token(): string | undefined {
  const cli = loadCliConfig();
  if (cli.token) return cli.token;
  const file = path.join(cli.dataDir, 'admin-token');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : cli.adminToken;
}

async function api(method: string, route: string, body?: unknown): Promise<{ status: number; body: any }> {
  const base = loadCliConfig().url;
  let res: Response;
  try {
    res = await fetch(`${base}${route}`, {
      method,
      headers: { authorization: `Bearer ${token() ?? ''}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new UsageError(`cannot reach gridflow at ${base} (${(e as Error).message}); start it with "npm start" or set GRIDFLOW_URL`);
  }
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

function problem(res: { status: number; body: any }, text?: string): number {
  const lines = [`error ${res.status}: ${res.body?.detail ?? res.body?.title ?? 'request failed'}`];
  for (const e of res.body?.errors ?? []) {
    const line = text ? lineOf(text, e.path) : undefined;
    lines.push(`  ${e.path}${line ? ` (line ${line})` : ''}: ${e.message}`);
  }
  for (const b of res.body?.blocked ?? []) lines.push(`  blocked ${b.workflowId} (${b.state}): ${b.reason}`);
  print(process.stderr, lines.join('\n'));
  return 1;
}

function parseDoc(text: string): unknown {
  return parseYaml(text);
}

export async function main(argv: string[]): Promise<number> {
  const p = parseArgs(argv);
  const [command, arg] = p.positional;
  if (!command || flag(p, 'help')) {
    print(process.stdout, USAGE);
    return command ? 0 : 2;
  }
  switch (command) {
    case 'validate': {
      const text = readFile(arg);
      const result = validateText(text);
      for (const w of result.warnings) print(process.stderr, `warning ${w.path}${lineOf(text, w.path) ? ` (line ${lineOf(text, w.path)})` : ''}: ${w.message}`);
      if (!result.valid) {
        for (const e of result.errors) print(process.stderr, `error ${e.path}${lineOf(text, e.path) ? ` (line ${lineOf(text, e.path)})` : ''}: ${e.message}`);
        print(process.stderr, `${arg}: ${result.errors.length} error(s)`);
        return 1;
      }
      print(process.stdout, `${arg}: valid (${result.document?.key}, ${result.warnings.length} warning(s))`);
      return 0;
    }
    case 'simulate': {
      const text = readFile(arg);
      const result = validateText(text);
      if (!result.valid || !result.document) {
        for (const e of result.errors) print(process.stderr, `error ${e.path}: ${e.message}`);
        return 1;
      }
      const events = parseDoc(readFile(need(p, 'events'))) as SimulationEvent[];
      if (!Array.isArray(events)) throw new UsageError('--events must hold a list of { at, type, data? }');
      const calendarFile = path.join(projectRoot(), 'definitions', 'calendars', 'cn-statutory.json');
      const calendar = checkCalendar(JSON.parse(fs.readFileSync(calendarFile, 'utf8'))).calendar;
      const input = flag(p, 'input') ? (JSON.parse(flag(p, 'input') as string) as Record<string, unknown>) : undefined;
      try {
        const sim = simulate(compileDefinition(result.document, calendar), { events, input, grid: flag(p, 'grid'), until: flag(p, 'until') });
        if (flag(p, 'json')) {
          print(process.stdout, sim);
        } else {
          for (const s of sim.steps) {
            const notes = s.notifications.map((n) => `  -> ${n.role.join('+')}: ${n.title}`).join('\n');
            print(process.stdout, `${s.at}  ${s.event.padEnd(24)} ${s.from || '(start)'} -> ${s.to}${s.late ? '  [late]' : ''}${s.rejected ? `  REFUSED: ${s.rejected.message}` : ''}${notes ? `\n${notes}` : ''}`);
          }
          print(process.stdout, `final: ${sim.final.state} (${sim.final.status})`);
        }
      } catch (e) {
        if (e instanceof SimulationError) throw new UsageError(e.message);
        throw e;
      }
      return 0;
    }
    case 'publish': {
      const text = readFile(arg);
      const note = flag(p, 'note');
      const res = await api('POST', `/api/definitions${note ? `?note=${encodeURIComponent(note)}` : ''}`, parseDoc(text));
      if (res.status >= 300) return problem(res, text);
      print(process.stdout, res.body.unchanged ? `${res.body.key} v${res.body.version}: unchanged` : `published ${res.body.key} v${res.body.version}`);
      if (res.body.schedule && res.body.schedule.action !== 'none') print(process.stdout, `schedule ${res.body.schedule.id}: ${res.body.schedule.action}`);
      return 0;
    }
    case 'pause':
    case 'resume':
    case 'retire': {
      if (!arg) throw new UsageError('name a definition key');
      const note = flag(p, 'note');
      const res = await api('POST', `/api/definitions/${encodeURIComponent(arg)}/${command}`, note ? { note } : {});
      if (res.status >= 300) return problem(res);
      const schedule = res.body.schedule?.action && res.body.schedule.action !== 'none' ? `; schedule ${res.body.schedule.id}: ${res.body.schedule.action}` : '';
      print(process.stdout, `${res.body.key}: ${res.body.status}${schedule}`);
      return 0;
    }
    case 'diff': {
      if (!arg) throw new UsageError('name a definition key');
      const res = await api('GET', `/api/definitions/${encodeURIComponent(arg)}/diff?from=${int(p, 'from')}&to=${int(p, 'to')}`);
      if (res.status >= 300) return problem(res);
      if (flag(p, 'json')) print(process.stdout, res.body);
      else {
        for (const c of res.body.changes) print(process.stdout, `${c.kind.padEnd(8)} ${c.subject}${c.state ? ` in ${c.state}` : ''}${c.name ? `: ${c.name}` : ''}`);
        print(process.stdout, `running on v${res.body.from}: ${res.body.runningTotal}`);
        for (const r of res.body.running) print(process.stdout, `  ${r.state}: ${r.running}${r.changes ? ` (${r.changes} change(s))` : ''}${r.removedInTarget ? ' (state removed in target)' : ''}`);
      }
      return 0;
    }
    case 'migrate': {
      if (!arg) throw new UsageError('name a definition key');
      const mapping: Record<string, string> = {};
      for (const m of p.flags.map ?? []) {
        const [from, to] = m.split('=');
        if (!from || !to) throw new UsageError(`--map ${m}: write state=target`);
        mapping[from] = to;
      }
      const ids = flag(p, 'ids')?.split(',').filter(Boolean);
      const body = { from: int(p, 'from'), to: int(p, 'to'), mapping, ...(ids ? { workflowIds: ids } : {}), dryRun: flag(p, 'dry-run') === 'true' };
      const res = await api('POST', `/api/definitions/${encodeURIComponent(arg)}/migrate`, body);
      if (res.status >= 300) return problem(res);
      if (flag(p, 'json')) print(process.stdout, res.body);
      else if (res.body.dryRun) {
        print(process.stdout, `dry run: ${res.body.moves.length} would move, ${res.body.blocked.length} blocked`);
        for (const m of res.body.moves) print(process.stdout, `  move ${m.workflowId}: ${m.from} -> ${m.to}${m.deadlines.length ? `; timers ${m.deadlines.map((d: { id: string; at: string }) => `${d.id}@${d.at}`).join(', ')}` : ''}`);
        for (const b of res.body.blocked) print(process.stdout, `  blocked ${b.workflowId} (${b.state}): ${b.reason}`);
      } else {
        print(process.stdout, `moved ${res.body.moved.length}, failed ${res.body.failed.length}`);
        for (const f of res.body.failed) print(process.stdout, `  failed ${f.workflowId}: ${f.reason}`);
      }
      return res.body.blocked?.length || res.body.failed?.length ? 1 : 0;
    }
    case 'token': {
      if (arg === 'create') {
        const role = need(p, 'role');
        const member = flag(p, 'member');
        const grids = flag(p, 'grids')?.split(',').filter(Boolean);
        const days = flag(p, 'days');
        const res = await api('POST', '/api/tokens', {
          role,
          name: flag(p, 'name') ?? member ?? role,
          ...(member ? { memberId: member } : {}),
          ...(grids ? { grids } : {}),
          ...(flag(p, 'community') ? { community: flag(p, 'community') } : {}),
          ...(flag(p, 'street') ? { street: flag(p, 'street') } : {}),
          ...(days ? { ttlDays: Number(days) } : {}),
        });
        if (res.status >= 300) return problem(res);
        print(process.stdout, flag(p, 'json') ? res.body : `token ${res.body.id} (${role}${member ? `, ${member}` : ''}): ${res.body.token}`);
        return 0;
      }
      if (arg === 'revoke') {
        const id = p.positional[2];
        if (!id) throw new UsageError('name the token id to revoke');
        const res = await api('POST', `/api/tokens/${encodeURIComponent(id)}/revoke`);
        if (res.status >= 300) return problem(res);
        print(process.stdout, res.body.revoked ? `revoked ${id}` : `${id} was not active`);
        return 0;
      }
      throw new UsageError('token create | token revoke <id>');
    }
    case 'identity': {
      const member = need(p, 'member');
      const provider = need(p, 'provider');
      const subject = need(p, 'subject');
      const route = `/api/members/${encodeURIComponent(member)}/identities`;
      if (arg !== 'link' && arg !== 'unlink') throw new UsageError('identity link | identity unlink, with --member, --provider and --subject');
      const res = arg === 'link' ? await api('POST', route, { provider, subject }) : await api('DELETE', `${route}/${encodeURIComponent(provider)}/${encodeURIComponent(subject)}`);
      if (res.status >= 300) return problem(res);
      if (flag(p, 'json')) print(process.stdout, res.body);
      else if (arg === 'link') print(process.stdout, `${provider} account ${subject} ${res.body.created ? 'linked to' : 'was already linked to'} ${member}`);
      else print(process.stdout, `${provider} account ${subject} unlinked from ${member}; ${res.body.sessionsRevoked} session(s) ended`);
      return 0;
    }
    case 'sessions': {
      if (!arg) throw new UsageError('name the member: sessions m-grid-03-worker');
      const res = await api('GET', `/api/members/${encodeURIComponent(arg)}/sessions`);
      if (res.status >= 300) return problem(res);
      if (flag(p, 'json')) print(process.stdout, res.body);
      else for (const s of res.body.items) print(process.stdout, `${s.id}  ${s.state.padEnd(7)}  ${s.provider} ${s.subject}  since ${s.createdAt}  last seen ${s.lastSeenAt}${s.revokedBy ? `  revoked by ${s.revokedBy}` : ''}`);
      return 0;
    }
    case 'session': {
      const id = p.positional[2];
      if (arg !== 'revoke' || !id) throw new UsageError('session revoke <id>');
      const res = await api('DELETE', `/api/sessions/${encodeURIComponent(id)}`);
      if (res.status >= 300) return problem(res);
      print(process.stdout, res.body.revoked ? `revoked ${id}` : `${id} was already revoked`);
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2))
    .then((code) => process.exit(code))
    .catch((e) => {
      if (e instanceof UsageError) {
        process.stderr.write(`gridflow: ${e.message}\n\n${USAGE}\n`);
        process.exit(2);
      }
      process.stderr.write(`gridflow: ${(e as Error).stack ?? e}\n`);
      process.exit(1);
    });
}
