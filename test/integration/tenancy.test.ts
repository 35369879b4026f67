import { addDays, localDate } from '../../engine/time';
import { enc, eventually, sentSteps, startHarness, type Harness } from '../support/harness';
import { TEST_SECOND_COMMUNITY } from '../support/communities';

/**
 * Two communities of one street, side by side (issue 18): Shengshi and 林苑社区 (linyuan, seeded for
 * every test run). Nothing of one community reaches the other's people, as another grid's does
 * not; the street office (新华西街道) sees and ranks both. The role matrix of who-may-act.test.ts
 * gains the community axis here: every built-in, in both communities, probed with every event by
 * people of both communities, the street and the admin.
 */
let h: Harness;
const LIN = TEST_SECOND_COMMUNITY.id as 'linyuan';
const today = localDate(Date.now());

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

type Community = 'shengshi' | 'linyuan';
/** Each community's people for its probe grid (grid-06; linyuan.grid-02) and its community level. */
const PEOPLE = {
  worker: { member: 'm-grid-06-worker', community: 'shengshi', grid: 'grid-06', as: 'worker' },
  leader: { member: 'm-grid-06-leader', community: 'shengshi', grid: 'grid-06', as: 'leader' },
  secretary: { member: 'm-party-secretary', community: 'shengshi', grid: null, as: 'secretary' },
  'community-mgr': { member: 'm-community-manager-1', community: 'shengshi', grid: null, as: 'community-mgr' },
  'lin-worker': { member: 'm-linyuan-grid-02-worker', community: LIN, grid: 'linyuan.grid-02', as: 'worker' },
  'lin-leader': { member: 'm-linyuan-grid-02-leader', community: LIN, grid: 'linyuan.grid-02', as: 'leader' },
  'lin-secretary': { member: 'm-linyuan-party-secretary', community: LIN, grid: null, as: 'secretary' },
  'lin-mgr': { member: 'm-linyuan-community-manager', community: LIN, grid: null, as: 'community-mgr' },
  // The street office sits in Shengshi's registry and oversees both communities.
  street: { member: 'm-street-office', community: 'street', grid: null, as: 'street-office' },
} as const;
type Person = keyof typeof PEOPLE | 'admin';
const persons: Person[] = [...(Object.keys(PEOPLE) as (keyof typeof PEOPLE)[]), 'admin'];

/** shared/domain.md "Who may act" in the first state of each built-in (the roles of who-may-act.test.ts). */
const WHO: Record<string, { state: string; events: Record<string, string[]> }> = {
  issue: {
    state: 'reported',
    events: { ACCEPT: ['worker', 'leader'], REJECT: ['worker', 'leader'], ESCALATE: ['leader', 'secretary', 'community-mgr'], VERIFY_OK: ['worker', 'leader'], OVERDUE_ESCALATE: [] },
  },
  'daily-patrol': { state: 'assigned', events: { START: ['worker'], CHECK_IN: ['worker'], SUBMIT: ['worker'], DUE: [] } },
  'weekly-report': { state: 'drafting', events: { SUBMIT: ['worker'], APPROVE: ['leader'] } },
  'monthly-review': { state: 'scheduling', events: { SCHEDULE: ['secretary', 'community-mgr'], CONFIRM: ['secretary', 'community-mgr'], MEETING_STARTS: [] } },
};
const ENGINE = new Set(['OVERDUE_ESCALATE', 'DUE', 'MEETING_STARTS']);

const token = async (p: Person) => (p === 'admin' ? h.token : h.as(PEOPLE[p].member).token());
const auth = async (p: Person) => ({ authorization: `Bearer ${await token(p)}` });
const detail = async (id: string) => (await h.call('GET', `/api/processes/${enc(id)}`)).body;

/** Whether `p` reaches a process of `community` (and `grid`, when it has one): otherwise it does not exist for them. */
function reaches(p: Person, community: Community, grid: string | null): boolean {
  if (p === 'admin' || p === 'street') return true;
  const who = PEOPLE[p];
  if (who.community !== community) return false;
  return who.grid === null || who.grid === grid;
}

function expected(p: Person, definition: string, event: string, accepts: string[], community: Community, grid: string | null): number {
  if (!reaches(p, community, grid)) return 404;
  if (ENGINE.has(event)) return 403;
  if (!accepts.includes(event)) return 409;
  return p !== 'admin' && WHO[definition].events[event].includes(PEOPLE[p].as) ? 400 : 403;
}

async function started(definition: string, body: Record<string, unknown>, p: Person): Promise<string> {
  const res = await h.call('POST', '/api/processes', { definition, ...body }, await auth(p));
  expect([res.status, res.body.detail]).toEqual([201, undefined]);
  const id = res.body.workflowId as string;
  await eventually(async () => (await detail(id)).history?.length >= 1);
  return id;
}

describe('two communities of one street', () => {
  const ids: Record<Community, Record<string, string>> = { shengshi: {}, linyuan: {} };

  beforeAll(async () => {
    for (const [community, grid, worker, manager] of [
      ['shengshi', 'grid-06', 'worker', 'community-mgr'],
      [LIN, 'linyuan.grid-02', 'lin-worker', 'lin-mgr'],
    ] as const) {
      ids[community].issue = await started('issue', { grid, input: { source: 'resident', category: '环境卫生', description: '楼道堆放杂物' } }, worker);
      ids[community]['daily-patrol'] = await started('daily-patrol', { grid, input: { date: addDays(today, 1) } }, worker);
      ids[community]['weekly-report'] = await started('weekly-report', { grid, input: { date: addDays(today, 6) } }, worker);
      // A manager's community-level start belongs to the manager's own community.
      ids[community]['monthly-review'] = await started('monthly-review', { input: { month: '2034-05', date: '2034-05-25' } }, manager);
    }
  }, 120_000);

  test('ids carry the community: a grid key outside the default community names it, and so does the workflow id', async () => {
    expect(ids.shengshi['daily-patrol']).toBe(`daily-patrol/grid-06/${addDays(today, 1)}`);
    expect(ids.linyuan['daily-patrol']).toBe(`daily-patrol/linyuan/grid-02/${addDays(today, 1)}`);
    expect(ids.shengshi['monthly-review']).toBe('monthly-review/2034-05');
    expect(ids.linyuan['monthly-review']).toBe('monthly-review/linyuan/2034-05');
    expect(ids.linyuan.issue).toMatch(/^issue\/linyuan\/\d{4}-\d{6}$/);
    const d = await detail(ids.linyuan['daily-patrol']);
    expect(d.grid).toBe('linyuan.grid-02');
    // Outside the default community the context names it; a Shengshi context is what it always was.
    expect(d.context.community).toBe(LIN);
    expect((await detail(ids.linyuan['monthly-review'])).context.community).toBe(LIN);
    expect((await detail(ids.shengshi['daily-patrol'])).context).not.toHaveProperty('community');
  });

  test('state × event × person × community: another community is out of reach like another grid; the street reaches both', async () => {
    const matrix: Record<string, Record<string, string>> = {};
    const wrong: string[] = [];
    for (const community of ['shengshi', LIN] as Community[]) {
      for (const definition of Object.keys(WHO)) {
        const id = ids[community][definition];
        const d = await detail(id);
        expect(d.state).toBe(WHO[definition].state);
        const before = sentSteps<{ event: string }>(d.history).length;
        for (const event of Object.keys(WHO[definition].events)) {
          const row: Record<string, string> = {};
          await Promise.all(
            persons.map(async (p) => {
              const want = expected(p, definition, event, d.accepts, community, d.grid);
              const res = await h.call('POST', `/api/processes/${enc(id)}/events`, { type: event, data: { probe: true } }, await auth(p));
              const ok = res.status === want && (want !== 400 || /unknown field "probe"/.test(res.body.detail));
              row[p] = ok ? String(res.status) : `${res.status}!=${want}`;
              if (!ok) wrong.push(`${community} ${definition} ${event} as ${p}: ${res.status} ${res.body.detail}`);
              // Another community's process: nothing of it in the answer.
              if (res.status === 404) expect(Object.keys(res.body).sort()).toEqual(['detail', 'status', 'title', 'type']);
              // Reading it is refused the same way.
              if (want === 404) expect((await h.call('GET', `/api/processes/${enc(id)}`, undefined, await auth(p))).status).toBe(404);
            }),
          );
          matrix[`${community} ${definition} ${event}`] = row;
        }
        expect(sentSteps((await detail(id)).history)).toHaveLength(before);
      }
    }
    console.table(matrix);
    expect(wrong).toEqual([]);
  }, 240_000);

  test('lists, tasks, grids and evaluations answer for the caller\'s own community; the street sees both', async () => {
    const listed = async (p: Person, path = '/api/processes?limit=500') => ((await h.call('GET', path, undefined, await auth(p))).body.items as { workflowId: string }[]).map((i) => i.workflowId);
    const linIds = Object.values(ids.linyuan);
    const shengshiIds = Object.values(ids.shengshi);
    const linMgr = await listed('lin-mgr');
    expect(linMgr).toEqual(expect.arrayContaining(linIds));
    expect(linMgr.filter((id) => shengshiIds.includes(id))).toEqual([]);
    expect((await listed('community-mgr')).filter((id) => linIds.includes(id))).toEqual([]);
    const street = await listed('street', '/api/processes?limit=500&definition=monthly-review');
    expect(street).toEqual(expect.arrayContaining([ids.shengshi['monthly-review'], ids.linyuan['monthly-review']]));
    // A path that names the community narrows the street's view to it.
    const streetLin = await listed('street', `/api/communities/${LIN}/processes?limit=500&definition=monthly-review`);
    expect(streetLin).toContain(ids.linyuan['monthly-review']);
    expect(streetLin).not.toContain(ids.shengshi['monthly-review']);
    // ...and a community manager may not name another community.
    const refused = await h.call('GET', `/api/communities/${LIN}/processes`, undefined, await auth('community-mgr'));
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toContain('community linyuan is not yours; you work in shengshi');

    // Every community-scoped route answers under the path, the counts of the process list included.
    const counts = await h.call('GET', `/api/communities/${LIN}/processes-counts?definition=monthly-review`, undefined, await auth('street'));
    expect([counts.status, counts.body.total]).toEqual([200, expect.any(Number)]);
    expect(counts.body.total).toBeGreaterThanOrEqual(1);

    const tasks = (await h.call('GET', '/api/tasks', undefined, await auth('lin-mgr'))).body.items as { workflowId: string; community: string }[];
    expect(tasks.length).toBeGreaterThan(0);
    expect(new Set(tasks.map((t) => t.community))).toEqual(new Set([LIN]));

    const grids = (await h.call('GET', '/api/grids', undefined, await auth('lin-mgr'))).body.items as { id: string }[];
    expect(grids.map((g) => g.id)).toEqual(['linyuan.grid-01', 'linyuan.grid-02', 'linyuan.grid-03']);
    expect((await h.call('GET', '/api/grids/grid-06', undefined, await auth('lin-mgr'))).status).toBe(403);
    expect(((await h.call('GET', '/api/grids', undefined, await auth('community-mgr'))).body.items as unknown[]).length).toBe(12);

    const lin = (await h.call('GET', '/api/evaluations/2034-04', undefined, await auth('lin-mgr'))).body;
    expect(lin.grids.map((g: { grid: string }) => g.grid).sort()).toEqual(['linyuan.grid-01', 'linyuan.grid-02', 'linyuan.grid-03']);
    const viaStreet = (await h.call('GET', `/api/communities/${LIN}/evaluations/2034-04`, undefined, await auth('street'))).body;
    expect(viaStreet.grids).toHaveLength(3);
    expect(((await h.call('GET', '/api/evaluations/2034-04', undefined, await auth('community-mgr'))).body.grids as unknown[]).length).toBe(12);

    const me = (await h.call('GET', '/api/me', undefined, await auth('street'))).body;
    expect(me.communities).toEqual([LIN, 'shengshi']);
    const communities = (await h.call('GET', '/api/communities', undefined, await auth('lin-worker'))).body.items as { id: string }[];
    expect(communities.map((c) => c.id)).toEqual([LIN]);
  });

  test('starting in another community is refused, and says who may', async () => {
    const res = await h.call('POST', '/api/processes', { definition: 'daily-patrol', grid: 'linyuan.grid-01', input: { date: addDays(today, 1) } }, await auth('community-mgr'));
    expect(res.status).toBe(403);
    expect(res.body.detail).toContain('community linyuan is not yours; you work in shengshi. Its own staff, or the street office above it, start its processes');
    const review = await h.call('POST', '/api/processes', { definition: 'monthly-review', community: LIN, input: { month: '2034-06', date: '2034-06-25' } }, await auth('community-mgr'));
    expect(review.status).toBe(403);
    // The street office may start a community's review by naming it in the path.
    const byStreet = await h.call('POST', `/api/communities/${LIN}/processes`, { definition: 'monthly-review', input: { month: '2034-06', date: '2034-06-25' } }, await auth('street'));
    expect([byStreet.status, byStreet.body.workflowId]).toEqual([201, 'monthly-review/linyuan/2034-06']);
  });

  test('a manager acts for members of their own community only', async () => {
    const res = await h.call('POST', `/api/processes/${enc(ids.shengshi['weekly-report'])}/events`, { type: 'SUBMIT', data: { narrative: 'x' }, onBehalfOf: 'm-grid-06-worker' }, await auth('lin-mgr'));
    // The process itself is out of reach first.
    expect(res.status).toBe(404);
    const own = await h.call('POST', `/api/processes/${enc(ids.linyuan['weekly-report'])}/events`, { type: 'SUBMIT', data: { narrative: 'x' }, onBehalfOf: 'm-grid-06-worker' }, await auth('lin-mgr'));
    expect(own.status).toBe(403);
    expect(own.body.detail).toContain('member "m-grid-06-worker" belongs to community shengshi; you act for members of linyuan only');
  });

  test('a manager manages the sessions and sign-in accounts of their own community\'s members only', async () => {
    const other = await h.call('GET', '/api/members/m-grid-06-worker/sessions', undefined, await auth('lin-mgr'));
    expect(other.status).toBe(403);
    expect(other.body.detail).toContain('admin, a manager of community shengshi');
    expect((await h.call('GET', '/api/members/m-grid-06-worker/identities', undefined, await auth('lin-mgr'))).status).toBe(403);
    expect((await h.call('GET', '/api/members/m-linyuan-grid-02-worker/sessions', undefined, await auth('lin-mgr'))).status).toBe(200);
    expect((await h.call('GET', '/api/members/m-grid-06-worker/sessions', undefined, await auth('street'))).status).toBe(200);
  });

  test('tokens: grids must lie in the token\'s community; a street token reaches the street', async () => {
    const bad = await h.call('POST', '/api/tokens', { role: 'grid-worker', name: 'x', grids: ['linyuan.grid-01'] });
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toContain('grid "linyuan.grid-01" belongs to community linyuan, not shengshi');
    const lin = await h.call('POST', '/api/tokens', { role: 'grid-worker', name: 'lin-script', grids: ['linyuan.grid-01'], community: LIN });
    expect(lin.status).toBe(201);
    expect((await h.call('GET', '/api/me', undefined, { authorization: `Bearer ${lin.body.token}` })).body).toMatchObject({ community: LIN, communities: [LIN], grids: ['linyuan.grid-01'] });
    const street = await h.call('POST', '/api/tokens', { role: 'manager', name: 'street-script', street: 'xinhuaxi' });
    expect(street.status).toBe(201);
    expect((await h.call('GET', '/api/me', undefined, { authorization: `Bearer ${street.body.token}` })).body.communities).toEqual([LIN, 'shengshi']);
  });

  test('the street\'s view ranks its communities; a community manager sees only their own there', async () => {
    const view = (await h.call('GET', '/api/street?month=2034-04', undefined, await auth('street'))).body;
    expect(view.communities.map((c: { id: string }) => c.id).sort()).toEqual([LIN, 'shengshi']);
    const lin = view.communities.find((c: { id: string }) => c.id === LIN);
    expect(lin).toMatchObject({ name: '林苑社区', street: { id: 'xinhuaxi', name: '新华西街道' }, grids: 3, households: 1200 });
    expect(lin.running).toBeGreaterThanOrEqual(4);
    expect(lin.openIssues).toBeGreaterThanOrEqual(1);
    const own = (await h.call('GET', '/api/street?month=2034-04', undefined, await auth('lin-mgr'))).body;
    expect(own.communities.map((c: { id: string }) => c.id)).toEqual([LIN]);
    expect((await h.call('GET', '/api/street', undefined, await auth('lin-worker'))).status).toBe(403);
  });

  test('a community adopts the street\'s template with its own version: its processes start on it, the other community\'s on the template', async () => {
    const ops = { authorization: `Bearer ${(await h.call('POST', '/api/tokens', { role: 'ops', name: 'tenancy-ops' })).body.token}` };
    const template = (await h.call('GET', '/api/definitions/weekly-report')).body;
    const { version: _v, createdAt: _c, ...doc } = template;
    const own = await h.call('POST', `/api/communities/${LIN}/definitions?note=${encodeURIComponent('林苑：周报标题')}`, { ...doc, title: '林苑社区网格周报' }, ops);
    expect([own.status, own.body.community]).toEqual([201, LIN]);
    expect(own.body.version).toBeGreaterThan(template.version);
    // The template is unchanged for everyone else; the community reads its own.
    expect((await h.call('GET', '/api/definitions/weekly-report')).body).toMatchObject({ title: template.title, version: template.version });
    expect((await h.call('GET', `/api/communities/${LIN}/definitions/weekly-report`, undefined, ops)).body).toMatchObject({ title: '林苑社区网格周报', version: own.body.version });
    const versions = (await h.call('GET', '/api/definitions/weekly-report/versions')).body.items as { version: number; community: string | null }[];
    expect(versions.find((v) => v.version === own.body.version)?.community).toBe(LIN);
    expect(versions.find((v) => v.version === template.version)?.community).toBeNull();

    const lin = await started('weekly-report', { grid: 'linyuan.grid-03', input: { date: addDays(today, 13) } }, 'admin');
    const shengshi = await started('weekly-report', { grid: 'grid-07', input: { date: addDays(today, 90) } }, 'admin');
    expect((await detail(lin)).definitionVersion).toBe(own.body.version);
    expect((await detail(shengshi)).definitionVersion).toBe(template.version);
    // A migration onto the community's own version plans for that community's instances only.
    const plan = await h.call('POST', `/api/communities/${LIN}/definitions/weekly-report/migrate`, { from: template.version, to: own.body.version, dryRun: true }, ops);
    expect(plan.status).toBe(200);
    const moved = (plan.body.moves as { workflowId: string }[]).map((m) => m.workflowId);
    expect(moved).toContain(ids.linyuan['weekly-report']);
    expect(moved.filter((id) => !id.startsWith('weekly-report/linyuan/'))).toEqual([]);
    // ...and Shengshi's cannot be moved onto it.
    const wrong = await h.call('POST', `/api/communities/shengshi/definitions/weekly-report/migrate`, { from: template.version, to: own.body.version, dryRun: true }, ops);
    expect([wrong.status, wrong.body.detail]).toEqual([400, expect.stringContaining(`is community ${LIN}'s own; instances of shengshi cannot move onto it`)]);
    // Publishing the same document again for the community changes nothing.
    expect((await h.call('POST', `/api/communities/${LIN}/definitions`, { ...doc, title: '林苑社区网格周报' }, ops)).body).toMatchObject({ unchanged: true, version: own.body.version });
    for (const id of [lin, shengshi]) await h.call('POST', `/api/processes/${enc(id)}/cancel`, { reason: 'tenancy test' });
  });

  test('a process starts others in its own community only: a review\'s minutes cannot open an issue in another community\'s grid', async () => {
    const review = await started('monthly-review', { input: { month: '2034-08', date: '2034-08-25' } }, 'lin-mgr');
    const secretary = await auth('lin-secretary');
    const scheduled = await h.call('POST', `/api/processes/${enc(review)}/events`, { type: 'SCHEDULE', data: { at: new Date(Date.now() + 1500).toISOString(), place: '会议室', participants: ['书记'] } }, secretary);
    expect(scheduled.status).toBe(200);
    await eventually(async () => (await detail(review)).state === 'in-session', 15_000, 250);
    const mark = `tenancy-${Date.now()}`;
    const minutes = await h.call(
      'POST',
      `/api/processes/${enc(review)}/events`,
      {
        type: 'RECORD_MINUTES',
        data: {
          attendance: ['书记'],
          minutes: '会议纪要',
          actionItems: [
            { grid: 'grid-06', category: '环境卫生', description: `${mark} 另一社区` },
            { grid: 'linyuan.grid-01', category: '环境卫生', description: `${mark} 本社区` },
          ],
        },
      },
      secretary,
    );
    expect(minutes.status).toBe(200);
    const opened = async () =>
      h.services.orm.em
        .fork()
        .getConnection()
        .execute<{ grid: string; community_id: string }[]>(`select grid, community_id from process_instance where definition_key = 'issue' and context->'input'->>'description' like ?`, [`${mark}%`]);
    await eventually(async () => (await opened()).length >= 1, 15_000, 250);
    // Give the refused start the time the allowed one took, then look again.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await opened()).toEqual([{ grid: 'linyuan.grid-01', community_id: LIN }]);
  });
});
