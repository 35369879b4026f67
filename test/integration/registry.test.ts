import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { cycleOf } from '../../engine/schedule-fanout';
import { addDays, localDate } from '../../engine/time';
import { enc, eventually, startHarness, type Harness } from '../support/harness';
import { xlsx, type Cell } from '../support/xlsx';

/**
 * The special-population register through the API, against the real Temporal and PostgreSQL:
 * importing it from CSV, an ops user publishing a registry-driven care-visit definition whose
 * schedule appears at once, a trigger that starts one round per due household (and a second that
 * starts none twice), a visit, and the coverage view; who may do what, by grid, as a generated matrix.
 * Grid-11's households are this file's (grid-12's one entry is the other grid).
 */
let h: Harness;
const tag = crypto.randomBytes(3).toString('hex').toUpperCase();
const hh = (n: string) => `R${tag}-${n}`;
const CANARY_PHONE = '13955501234';
const CANARY_NAME = '测试甲';
const today = localDate(Date.now());
// Registered two months ago: last week and last month were owed a visit.
const since = addDays(today, -62);
const lastWeek = cycleOf('weekly', addDays(today, -7));
const lastMonth = cycleOf('monthly', addDays(cycleOf('monthly', today).start, -1));
const example = parse(fs.readFileSync(path.join(__dirname, '..', '..', 'definitions', 'examples', 'care-visit.definition.yaml'), 'utf8'));

const HEADER = '户号,类别,网格,姓名,联系电话,身份证号,住址,走访周期,纳入日期,状态';
const goodFile = (phone = CANARY_PHONE) =>
  [
    HEADER,
    `${hh('001')},独居老人,第十一网格,${CANARY_NAME},${phone},11010519491231002X,信达家园3号楼2单元101,,${since},在册`,
    `${hh('002')},低保,11,李四,0871-1234567,,信达家园5号楼,,${since},`,
    `${hh('003')},低保,grid-11,王五,,,信达家园6号楼,,${since},`,
    `${hh('003')},独居老人,grid-11,王五,,,信达家园6号楼,,${since},`,
    `${hh('004')},留守儿童,11,赵小六,,,信达家园7号楼,,${since},退出`,
  ].join('\r\n');

type Caller = 'admin' | 'manager' | 'ops' | 'partner' | 'leader-own' | 'worker-own' | 'leader-other' | 'worker-other';
const MEMBERS: Partial<Record<Caller, string>> = {
  manager: 'm-community-manager-1',
  partner: 'm-org-rongbo',
  'leader-own': 'm-grid-11-leader',
  'worker-own': 'm-grid-11-worker',
  'leader-other': 'm-grid-12-leader',
  'worker-other': 'm-grid-12-worker',
};
const tokens: Partial<Record<Caller, string>> = {};
const as = (c: Caller) => ({ authorization: `Bearer ${tokens[c]}` });

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** The CSV's lines as a worksheet: phones as numbers and dates as serial days in a date format, as Excel keeps what is typed. */
const asSheet = (csv: string): Cell[][] =>
  csv.split(/\r?\n/).map((line, i) =>
    line.split(',').map((v): Cell => (v === '' ? null : i > 0 && /^1\d{10}$/.test(v) ? Number(v) : i > 0 && /^\d{4}-\d{2}-\d{2}$/.test(v) ? { date: v } : v)),
  );

async function upload(caller: Caller, body: Buffer | string, type = 'text/csv; charset=utf-8') {
  // The bytes as they are (a byte order mark, GBK): a string would be sent as UTF-8.
  const bytes = typeof body === 'string' ? body : new Blob([new Uint8Array(body)]);
  const res = await fetch(`${h.baseUrl}/api/registry/import`, { method: 'POST', headers: { ...as(caller), 'content-type': type }, body: bytes });
  return { status: res.status, body: (await res.json()) as any };
}

const entryOf = async (household: string, category: string) => {
  const res = await h.call('GET', `/api/registry?household=${enc(household)}&category=${enc(category)}`);
  expect(res.status).toBe(200);
  return res.body.items[0];
};

const rounds = async (): Promise<string[]> => {
  const rows = await h.services.orm.em.fork().getConnection().execute<{ workflow_id: string }[]>(
    `select workflow_id from process_instance where definition_key = 'care-visit' and workflow_id like ? order by workflow_id`,
    [`care-visit/R${tag}-%`],
  );
  return rows.map((r) => r.workflow_id);
};

beforeAll(async () => {
  h = await startHarness();
  tokens.admin = h.token;
  tokens.ops = (await h.services.tokens.create({ role: 'ops', name: 'registry test ops' })).token;
  for (const [caller, member] of Object.entries(MEMBERS)) tokens[caller as Caller] = await h.as(member as string).token();
});
afterAll(async () => {
  await h?.close();
});

describe('importing the register from CSV', () => {
  test('a good file with a byte order mark is imported whole: active and retired entries, personal fields encrypted at rest and masked in answers', async () => {
    const res = await upload('leader-own', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(goodFile())]));
    expect(res).toEqual({ status: 200, body: { rows: 5, created: 5, updated: 0, unchanged: 0 } });
    // The other grid's one household, imported by a manager.
    expect((await upload('manager', `${HEADER}\n${hh('101')},独居老人,12,钱七,,,光源小区1号,,${since},`)).body.created).toBe(1);

    const list = await h.call('GET', '/api/registry?grid=grid-11&limit=1000', undefined, as('worker-own'));
    const mine = list.body.items.filter((e: { household: string }) => e.household.startsWith(`R${tag}-`));
    expect(mine.map((e: { household: string; category: string; active: boolean }) => `${e.household} ${e.category} ${e.active}`)).toEqual([
      `${hh('001')} 独居老人 true`,
      `${hh('002')} 低保 true`,
      `${hh('003')} 低保 true`,
      `${hh('003')} 独居老人 true`,
      `${hh('004')} 留守儿童 false`,
    ]);
    expect(mine[0]).toMatchObject({ grid: 'grid-11', name: '测**', phone: '139****1234', idNumber: '110***********002X', address: '信达家园****', cycle: null, since });
    expect(JSON.stringify(list.body)).not.toContain(CANARY_PHONE);
    expect(JSON.stringify(list.body)).not.toContain(CANARY_NAME);

    const stored = await h.services.orm.em.fork().getConnection().execute<Record<string, string | null>[]>(
      `select name, phone, id_number, address from registry_entry where household like ?`,
      [`R${tag}-%`],
    );
    expect(stored).toHaveLength(6);
    for (const row of stored) for (const v of Object.values(row)) if (v !== null) expect(v).toMatch(/^enc:v1:/);
    expect(JSON.stringify(stored)).not.toContain(CANARY_PHONE);
  });

  test('a file with bad lines is refused with each line and column, and none of its good lines is imported', async () => {
    const res = await upload(
      'manager',
      [HEADER, `${hh('005')},空巢老人,11,孙八,,,信达家园8号楼,,,`, `${hh('006')},孤寡,11,周九,12345,,信达家园9号楼,,,`, `${hh('007')},低保,11,,,,,,2026-02-30,`].join('\n'),
    );
    expect(res.status).toBe(422);
    expect(res.body.detail).toBe('the file has 5 problem(s); nothing was imported. Correct each line named and upload the whole file again');
    expect(res.body.errors.map((e: { line: number; column: string }) => `${e.line} ${e.column}`)).toEqual(['3 类别', '3 联系电话', '4 姓名', '4 住址', '4 纳入日期']);
    expect((await h.call('GET', `/api/registry?household=${hh('005')}`)).body.total).toBe(0);
  });

  test('an Excel workbook, GBK text and a JSON body are refused with how to send the file', async () => {
    expect((await upload('manager', Buffer.from('PK\x03\x04....', 'latin1'))).body.detail).toMatch(/Excel workbook.*CSV UTF-8/);
    const gbk = await upload('manager', Buffer.from('bba7bac52cd0d5c3fb0a312cd5c5c8fd0a', 'hex'));
    expect(gbk.status).toBe(415);
    expect(gbk.body.detail).toMatch(/not UTF-8/);
    const json = await h.call('POST', '/api/registry/import', { csv: HEADER });
    expect(json.status).toBe(415);
    expect(json.body.detail).toMatch(/Content-Type text\/csv/);
  });

  test('importing the file again updates by household and category instead of adding', async () => {
    const res = await upload('leader-own', goodFile('13955509999'));
    expect(res.body).toEqual({ rows: 5, created: 0, updated: 1, unchanged: 4 });
    expect((await h.call('GET', `/api/registry?household=${hh('003')}`)).body.total).toBe(2);
    expect((await entryOf(hh('001'), '独居老人')).phone).toBe('139****9999');
    // Back to the canary, as the rest of the file expects.
    expect((await upload('leader-own', goodFile())).body.updated).toBe(1);
    const audit = await h.services.orm.em.fork().getConnection().execute<{ actor: string; data: { created: number; updated: number } }[]>(
      // This file's five-line imports.
      `select actor, data from audit_log where action = 'registry.import' and actor = 'm-grid-11-leader' and data->>'rows' = '5' order by id`,
    );
    expect(audit.map((a) => [a.data.created, a.data.updated])).toEqual([[5, 0], [0, 1], [0, 1]]);
  });

  test('the same register as an Excel workbook imports to the same entries: nothing changes', async () => {
    const res = await upload('leader-own', xlsx([{ name: '重点人群', rows: asSheet(goodFile()) }]), XLSX);
    expect(res).toEqual({ status: 200, body: { rows: 5, created: 0, updated: 0, unchanged: 5 } });
    expect((await entryOf(hh('001'), '独居老人')).phone).toBe('139****1234');
  });

  test('a workbook with bad rows is refused naming each row, header and cell, and none of its good rows is imported', async () => {
    const rows = asSheet([HEADER, `${hh('008')},空巢老人,11,孙八,,,信达家园8号楼,,,`, `${hh('009')},孤寡,11,周九,12345,,信达家园9号楼,,,`].join('\n'));
    const res = await upload('manager', xlsx([{ name: '台账', rows }]), XLSX);
    expect(res.status).toBe(422);
    expect(res.body.detail).toBe('the sheet "台账" has 2 problem(s); nothing was imported. Correct each row named and upload the whole workbook again');
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(['row 3, 类别 (B3)', 'row 3, 联系电话 (E3)']);
    expect((await h.call('GET', `/api/registry?household=${hh('008')}`)).body.total).toBe(0);
    // Against the register: grid-12's leader may not take over grid-11's household.
    const taken = await upload('leader-other', xlsx([{ name: '台账', rows: asSheet([HEADER, `${hh('001')},低保,12,测试甲,,,信达家园3号楼,,,`].join('\n')) }]), XLSX);
    expect(taken.status).toBe(422);
    expect(taken.body.errors).toEqual([expect.objectContaining({ path: 'row 2, 网格 (C2)', cell: 'C2', message: expect.stringContaining('not one of your grids') })]);
  });

  test('a body sent as a workbook that is none, and a workbook sent as CSV, are refused with how to send it', async () => {
    const text = await upload('manager', HEADER, XLSX);
    expect(text.status).toBe(415);
    expect(text.body.detail).toMatch(/^the file is not an Excel workbook/);
    const asCsv = await upload('manager', xlsx([{ name: '台账', rows: asSheet(goodFile()) }]));
    expect(asCsv.status).toBe(415);
    expect(asCsv.body.detail).toContain(`send it with Content-Type ${XLSX}`);
  });

  test('a leader edits an entry in the console\'s way; the audit says which fields, never their values; unmasking is audited', async () => {
    const e = await entryOf(hh('002'), '低保');
    const edited = await h.call('PUT', `/api/registry/${e.id}`, { phone: '138 0000 1111', address: '信达家园5号楼1单元' }, as('leader-own'));
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ phone: '138****1111', address: '信达家园****', updatedBy: 'm-grid-11-leader' });
    const bad = await h.call('PUT', `/api/registry/${e.id}`, { idNumber: '110105194912310021' }, as('leader-own'));
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ path: 'idNumber', message: expect.stringContaining('check digit') }]);
    const clear = await h.call('GET', `/api/registry/${e.id}/personal`, undefined, as('worker-own'));
    expect(clear.body).toEqual({ id: e.id, household: hh('002'), name: '李四', phone: '13800001111', idNumber: null, address: '信达家园5号楼1单元' });
    const audit = await h.services.orm.em.fork().getConnection().execute<{ action: string; actor: string; data: Record<string, unknown> }[]>(
      `select action, actor, data from audit_log where subject = ? order by id`,
      [`registry:${e.id}`],
    );
    expect(audit.map((a) => [a.action, a.actor])).toEqual([
      ['registry.edit', 'm-grid-11-leader'],
      ['registry.unmask', 'm-grid-11-worker'],
    ]);
    expect(audit[0].data).toMatchObject({ fields: ['phone', 'address'], grid: 'grid-11' });
    expect(JSON.stringify(audit)).not.toContain('1111');
  });
});

describe('a registry-driven care-visit definition, published by an ops user', () => {
  const scheduleId = () => `${h.taskQueue}/care-visit`;
  // Runs on any day this test runs, so that a trigger today starts today's rounds.
  const doc = { ...example, schedule: { ...example.schedule, holidays: 'run', weekends: 'run', makeUpWorkdays: 'run' } };

  test('publishing creates its schedule at once; GET /api/schedules shows it with its next runs and what it fans out over', async () => {
    const published = await h.call('POST', '/api/definitions?note=关爱走访', doc, as('ops'));
    // 200 when the browser test published the same document first: the same version, reconciled here too.
    expect([200, 201]).toContain(published.status);
    expect(published.body.schedule).toEqual({ id: scheduleId(), action: 'created' });
    const list = await h.call('GET', '/api/schedules', undefined, as('ops'));
    const s = list.body.items.find((x: { id: string }) => x.id === scheduleId());
    expect(s).toMatchObject({ definition: 'care-visit', created: true, status: 'active', cron: '0 8 * * 1', fanOut: 'grids', forEach: { registry: { categories: expect.arrayContaining(['独居老人', '低保']), due: true, visitedStates: ['visited'] } } });
    expect(s.nextRuns).toHaveLength(5);
    // Mondays at 08:00 in Asia/Shanghai: 00:00 UTC on a Monday.
    for (const at of s.nextRuns) {
      expect(at).toMatch(/T08:00:00\.000\+08:00$/);
      expect(new Date(at).getUTCDay()).toBe(1);
    }
  });

  test('triggering it starts one round per due household, in its grid, with no personal data; a second trigger in the cycle starts none twice', async () => {
    const id = enc(scheduleId());
    expect((await h.call('POST', `/api/schedules/${id}/trigger`, undefined, as('ops'))).status).toBe(202);
    const week = cycleOf('weekly', today).id;
    const month = cycleOf('monthly', today).id;
    const expected = [`care-visit/${hh('001')}/${week}`, `care-visit/${hh('002')}/${month}`, `care-visit/${hh('003')}/${week}`, `care-visit/${hh('101')}/${week}`].sort();
    const first = await eventually(async () => {
      const ids = await rounds();
      return ids.length >= expected.length && ids;
    }, 30_000, 250);
    expect(first).toEqual(expected);

    const detail = await h.call('GET', `/api/processes/${enc(`care-visit/${hh('003')}/${week}`)}`, undefined, as('worker-own'));
    expect(detail.body).toMatchObject({ grid: 'grid-11', state: 'due', tasks: [expect.objectContaining({ role: 'grid-worker' })] });
    expect(Object.keys(detail.body.context.input).sort()).toEqual(['categories', 'cycle', 'date', 'dueDate', 'household', 'period']);
    expect(detail.body.context.input).toMatchObject({ household: hh('003'), categories: ['低保', '独居老人'], cycle: week, period: 'weekly', date: today });
    expect(JSON.stringify(detail.body)).not.toMatch(new RegExp(`${CANARY_PHONE}|王五|信达家园6号楼`));
    // The other grid's round belongs to that grid: grid-11's worker does not see it.
    expect((await h.call('GET', `/api/processes/${enc(`care-visit/${hh('101')}/${week}`)}`, undefined, as('worker-own'))).status).toBe(404);

    expect((await h.call('POST', `/api/schedules/${id}/trigger`, undefined, as('ops'))).status).toBe(202);
    const runs = await eventually(async () => {
      const s = await h.call('GET', `/api/schedules/${id}`, undefined, as('ops'));
      return s.body.recentRuns.length >= 2 && s.body.recentRuns;
    }, 30_000, 250);
    // The second launch started nothing: it found this cycle's rounds.
    const second = await h.services.client.workflow.getHandle(runs[runs.length - 1].workflowId).result();
    expect(second).toMatchObject({ day: today, started: [] });
    // (Households other test files register, in the same database, are this schedule's too.)
    expect(second.existing.filter((w: string) => w.startsWith(`care-visit/R${tag}-`)).sort()).toEqual(expected);
    expect(await rounds()).toEqual(expected);
    // Nothing else here needs the schedule: paused, it cannot fire (Mondays 00:00 UTC) while this file
    // runs on and start rounds for the households other files register, on this file's task queue.
    expect((await h.call('POST', `/api/schedules/${id}/pause`, { note: 'test done with it' }, as('ops'))).status).toBe(200);
  });

  test('a visit completes its round; the coverage view shows who was visited this cycle, who is not yet, and who is overdue', async () => {
    const week = cycleOf('weekly', today).id;
    const visit = { type: 'VISIT', data: { met: 'in-person', wellbeing: 'good', note: '身体状况良好' } };
    // Another grid's worker cannot record it.
    expect((await h.send(`care-visit/${hh('001')}/${week}`, visit, 'm-grid-12-worker')).status).toBe(404);
    // The whole answer, so a failure shows what came back instead.
    expect(await h.send(`care-visit/${hh('001')}/${week}`, visit, 'm-grid-11-worker')).toMatchObject({ status: 200, body: { state: 'visited' } });
    expect(await h.send(`care-visit/${hh('003')}/${week}`, visit, 'm-grid-11-part-time-1')).toMatchObject({ status: 200, body: { state: 'visited' } });
    await eventually(async () => (await rounds()).length && (await h.services.orm.em.fork().getConnection().execute<{ n: string }[]>(`select count(*) as n from process_instance where workflow_id like ? and state = 'visited'`, [`care-visit/R${tag}-%`]))[0].n === '2');

    const cov = await h.call('GET', '/api/registry/coverage', undefined, as('leader-own'));
    expect(cov.status).toBe(200);
    expect(cov.body).toMatchObject({ definition: 'care-visit', cycle: today });
    const groups = cov.body.groups.filter((g: { entries: { household: string }[] }) => g.entries.some((e) => e.household.startsWith(`R${tag}-`)));
    expect(groups.every((g: { grid: string }) => g.grid === 'grid-11')).toBe(true);
    const status = (category: string) => Object.fromEntries(groups.find((g: { category: string }) => g.category === category).entries.map((e: { household: string; status: string }) => [e.household, e.status]));
    // H-003's weekly visit covers its monthly 低保 too; H-002 is monthly and not visited yet.
    expect(status('独居老人')).toEqual({ [hh('001')]: 'visited', [hh('003')]: 'visited' });
    expect(status('低保')[hh('003')]).toBe('visited');
    expect(['pending', 'overdue']).toContain(status('低保')[hh('002')]);
    const elderly = groups.find((g: { category: string }) => g.category === '独居老人');
    expect(elderly).toMatchObject({ period: 'weekly', cycle: week, total: 2, visited: 2, rate: 1 });
    expect(elderly.entries[0]).toMatchObject({ name: '测**', visitedOn: today, workflowId: `care-visit/${hh('001')}/${week}` });
    expect(JSON.stringify(cov.body)).not.toContain(CANARY_NAME);
    // 退出 (retired) entries are not owed visits.
    expect(JSON.stringify(cov.body)).not.toContain(hh('004'));

    // Last week and last month nobody was visited: every entry owed a visit then is overdue.
    const weekBefore = await h.call('GET', `/api/registry/coverage?cycle=${lastWeek.id}&grid=grid-11`, undefined, as('manager'));
    const weekly = weekBefore.body.groups.flatMap((g: { entries: { household: string; status: string }[] }) => g.entries).filter((e: { household: string }) => e.household.startsWith(`R${tag}-`));
    expect(weekly.map((e: { household: string; status: string }) => `${e.household} ${e.status}`).sort()).toEqual([`${hh('001')} overdue`, `${hh('003')} overdue`]);
    const monthBefore = await h.call('GET', `/api/registry/coverage?cycle=${lastMonth.id}&category=低保`, undefined, as('manager'));
    const monthly = monthBefore.body.groups.flatMap((g: { entries: { household: string; status: string }[] }) => g.entries).filter((e: { household: string }) => e.household.startsWith(`R${tag}-`));
    expect(monthly.map((e: { household: string; status: string }) => `${e.household} ${e.status}`)).toEqual([`${hh('002')} overdue`, `${hh('003')} overdue`]);

    // The other grid's staff see their own grid's coverage only.
    const other = await h.call('GET', '/api/registry/coverage', undefined, as('worker-other'));
    expect(other.body.groups.every((g: { grid: string }) => g.grid === 'grid-12')).toBe(true);
    expect(other.body.groups.flatMap((g: { entries: { household: string }[] }) => g.entries.map((e) => e.household))).toContain(hh('101'));
    expect((await h.call('GET', '/api/registry/coverage?cycle=2026-W60', undefined, as('manager'))).status).toBe(400);
  });
});

describe('who may reach the register: every role, in its own grid and another', () => {
  const CALLERS: Caller[] = ['admin', 'manager', 'ops', 'partner', 'leader-own', 'worker-own', 'leader-other', 'worker-other'];

  /** The rule, stated once: grid staff reach their grid's entries, leaders and managers change them, ops and partners see no one. */
  function expected(route: string, caller: Caller): number | 'own-only' {
    if (caller === 'ops' || caller === 'partner') return 403;
    const edits = route === 'PUT entry' || route === 'POST import';
    if (edits && caller.startsWith('worker')) return 403;
    if (caller.endsWith('-other')) {
      if (route === 'POST import') return 422;
      if (route === 'GET list' || route === 'GET coverage') return 'own-only';
    }
    if (caller.endsWith('-other')) return 404;
    return 200;
  }

  test('the matrix', async () => {
    const entry = await entryOf(hh('001'), '独居老人');
    const routes: Record<string, (c: Caller) => Promise<{ status: number; body: any }>> = {
      'GET list': (c) => h.call('GET', '/api/registry?grid=grid-11', undefined, as(c)),
      'GET entry': (c) => h.call('GET', `/api/registry/${entry.id}`, undefined, as(c)),
      'GET personal': (c) => h.call('GET', `/api/registry/${entry.id}/personal`, undefined, as(c)),
      'PUT entry': (c) => h.call('PUT', `/api/registry/${entry.id}`, { active: true }, as(c)),
      'POST import': (c) => upload(c, `${HEADER}\n${hh('001')},独居老人,11,${CANARY_NAME},${CANARY_PHONE},11010519491231002X,信达家园3号楼2单元101,,${since},在册`),
      'GET coverage': (c) => h.call('GET', '/api/registry/coverage?grid=grid-11', undefined, as(c)),
    };
    const matrix: Record<string, Record<string, string>> = {};
    const wrong: string[] = [];
    for (const [route, call] of Object.entries(routes)) {
      matrix[route] = {};
      for (const caller of CALLERS) {
        const want = expected(route, caller);
        const res = await call(caller);
        const sawOwn = JSON.stringify(res.body).includes(hh('001'));
        // "own-only": answered, but with nothing of grid-11.
        const got = want === 'own-only' ? (res.status === 200 && !sawOwn ? 'own-only' : `${res.status}${sawOwn ? '+grid-11' : ''}`) : res.status;
        matrix[route][caller] = got === want ? String(got) : `${got}!=${want}`;
        if (got !== want) wrong.push(`${route} as ${caller}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
        if (res.status === 403 || res.status === 404) {
          // A refusal names no household, person or number.
          expect(JSON.stringify(res.body)).not.toMatch(new RegExp(`${hh('001')}|${CANARY_NAME}|${CANARY_PHONE}`));
        }
        if (res.status === 403) expect(res.body.detail).toMatch(/is for admin, manager/);
      }
    }
    console.table(matrix);
    expect(wrong).toEqual([]);
  });
});
