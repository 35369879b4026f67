import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { MikroORM, defineConfig } from '@mikro-orm/postgresql';
import { gridRoutes } from '../../api/grids.routes';
import { problemHandler } from '../../api/problem';
import { communityEntities, Grid, Member, Organization, Site } from '../../db/community.entities';
import { seedCommunity } from '../../db/community.seed';
import { Migration20261125100000_community } from '../../db/migrations/Migration20261125100000_community';
import { createLogger } from '../../infra/log';
import { CommunityService, maskPhone } from '../../services/community.service';
import { DataKey } from '../../infra/crypto';

// The global setup encrypts phone numbers at rest with this key.
const key = new DataKey(process.env.GRIDFLOW_DATA_KEY as string);

let orm: MikroORM;
let community: CommunityService;
let server: Server;
let baseUrl: string;
let seeded: Awaited<ReturnType<typeof seedCommunity>>[];
let snapshots: unknown[];

const TABLES = ['grid', 'site', 'member', 'organization'];

async function snapshot() {
  const conn = orm.em.fork().getConnection();
  const out: Record<string, unknown[]> = {};
  // Shengshi's rows: the test run seeds a second community beside it (test/support/communities.ts).
  for (const t of TABLES) {
    out[t] = await conn.execute(t === 'site' ? `select * from site where grid_id in (select id from grid where community_id = 'shengshi') order by id` : `select * from "${t}" where community_id = 'shengshi' order by id`);
  }
  return out;
}

/** Creates the community tables with the migration's own SQL unless the global setup's migrations already did. */
async function ensureTables() {
  const conn = orm.em.getConnection();
  const [{ t }] = await conn.execute<{ t: string | null }[]>(`select to_regclass('public.grid')::text as t`);
  if (t) return;
  const migration = new Migration20261125100000_community(orm.em.getDriver(), orm.config);
  await migration.up();
  const queries = migration.getQueries();
  await conn.transactional(async (trx) => {
    for (const q of queries) await conn.execute(q as string, [], 'run', trx);
  });
}

async function get(path: string) {
  const res = await fetch(`${baseUrl}${path}`);
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, body: JSON.parse(text) };
}

beforeAll(async () => {
  orm = await MikroORM.init(defineConfig({ clientUrl: process.env.DATABASE_URL, entities: communityEntities, debug: false, allowGlobalContext: false }));
  await ensureTables();
  community = new CommunityService(orm, key);
  seeded = [await seedCommunity(orm)];
  snapshots = [await snapshot()];
  seeded.push(await seedCommunity(orm));
  snapshots.push(await snapshot());

  const app = express();
  app.use('/api/grids', gridRoutes(community));
  const asWorker = express.Router();
  asWorker.use((req, _res, next) => {
    req.principal = { role: 'grid-worker', name: 'm-grid-03-worker', grids: ['grid-03'] };
    next();
  });
  asWorker.use('/api/grids', gridRoutes(community));
  app.use('/as-grid-03-worker', asWorker);
  app.use(problemHandler(createLogger('error')));
  server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await orm?.close();
});

const em = () => orm.em.fork();
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('the community schema and seed', () => {
  test('the migration creates exactly the tables the entities describe', async () => {
    // safe: only additions and changes to our four tables count; the other tables are not ours to judge here.
    const diff = await orm.getSchemaGenerator().getUpdateSchemaSQL({ safe: true, wrap: false });
    expect(diff.trim()).toBe('');
  });

  test('seeding twice reports the same rows and changes none of them', () => {
    expect(seeded[0]).toEqual({ grids: 12, sites: 14, members: expect.any(Number), organizations: expect.any(Number) });
    expect(seeded[1]).toEqual(seeded[0]);
    expect(snapshots[1]).toEqual(snapshots[0]);
    const rows = snapshots[0] as Record<string, unknown[]>;
    expect(rows.member).toHaveLength(seeded[0].members);
    expect(rows.organization).toHaveLength(seeded[0].organizations);
  });

  test('Shengshi Community has 12 grids of 300-500 households adding up to 4,635 households and 9,281 residents', async () => {
    const grids = await em().find(Grid, { communityId: 'shengshi' }, { orderBy: { id: 'asc' } });
    expect(grids.map((g) => g.id)).toEqual(Array.from({ length: 12 }, (_, i) => `grid-${String(i + 1).padStart(2, '0')}`));
    expect(grids[0].name).toBe('第一网格');
    expect(grids[4].name).toBe('第五网格');
    expect(grids[11].name).toBe('第十二网格');
    expect(sum(grids.map((g) => g.households))).toBe(4635);
    expect(sum(grids.map((g) => g.residents))).toBe(9281);
    for (const g of grids) {
      expect(g.households).toBeGreaterThanOrEqual(300);
      expect(g.households).toBeLessThanOrEqual(500);
      expect(g.residents).toBeGreaterThan(g.households);
    }
  });

  test('7 compounds, 6 single buildings and the bungalow area each lie in one grid, and every grid\'s sites add up to it', async () => {
    const sites = (await em().find(Site, {})).filter((s) => !s.gridId.includes('.'));
    const names = (kind: string) => sites.filter((s) => s.kind === kind).map((s) => s.name);
    expect(names('compound')).toHaveLength(7);
    expect(names('compound')).toEqual(expect.arrayContaining(['信达家园', '盛世华庭南区', '盛世华庭北区', '祥渊', '粮食局', '光源']));
    expect(names('building')).toHaveLength(6);
    expect(names('building')).toEqual(expect.arrayContaining(['人行楼', '工行楼', '长线楼', '石油公司单体楼']));
    expect(names('bungalow-area')).toEqual(['新西南平房']);
    expect(new Set(sites.map((s) => s.id)).size).toBe(14);
    for (const g of await em().find(Grid, { communityId: 'shengshi' })) {
      const own = sites.filter((s) => s.gridId === g.id);
      expect(own.length).toBeGreaterThanOrEqual(1);
      expect({ grid: g.id, households: sum(own.map((s) => s.households)) }).toEqual({ grid: g.id, households: g.households });
    }
    expect(sites.every((s) => /^grid-(0[1-9]|1[0-2])$/.test(s.gridId))).toBe(true);
  });

  test('every grid is staffed "一长一专多兼一警", with the party secretary and two managers above the grids', async () => {
    const members = await em().find(Member, { communityId: 'shengshi' });
    for (let n = 1; n <= 12; n++) {
      const grid = `grid-${String(n).padStart(2, '0')}`;
      const count = (role: string) => members.filter((m) => m.gridId === grid && m.role === role).length;
      expect({ grid, leader: count('grid-leader'), worker: count('grid-worker'), police: count('grid-police') }).toEqual({ grid, leader: 1, worker: 1, police: 1 });
      expect(count('grid-part-time')).toBeGreaterThanOrEqual(2);
      expect(count('grid-part-time')).toBeLessThanOrEqual(3);
    }
    expect(members.find((m) => m.id === 'm-grid-05-worker')).toMatchObject({ name: '第五网格专职网格员', role: 'grid-worker', gridId: 'grid-05', active: true });
    const above = members.filter((m) => m.gridId === null && !m.organizationId).map((m) => m.role).sort();
    expect(above).toEqual(['community-manager', 'community-manager', 'party-secretary', 'street-office']);
    // Each outside organisation has a member who takes the work given to it.
    expect(members.filter((m) => m.organizationId).map((m) => m.role)).toEqual(Array(7).fill('partner'));
    expect(members.every((m) => m.active)).toBe(true);
  });

  test('every phone number is a distinct 138 number', async () => {
    const stored = [...(await em().find(Member, {})).map((m) => m.phone), ...(await em().find(Organization, {})).map((o) => o.phone)];
    // At rest they are encrypted; in clear they are 138 numbers.
    for (const p of stored) expect(p).toMatch(/^enc:v1:/);
    const phones = stored.map((p) => key.decryptText(p));
    for (const p of phones) expect(p).toMatch(/^138\d{8}$/);
    expect(new Set(phones).size).toBe(phones.length);
  });

  test('the outside parties: partner units, the property company of 盛世华庭南区, 公安, 市场监管, 执法 and a social organisation', async () => {
    const orgs = await em().find(Organization, {});
    const kinds = (kind: string) => orgs.filter((o) => o.kind === kind);
    expect(kinds('partner-unit').length).toBeGreaterThanOrEqual(2);
    expect(kinds('property-company')).toEqual([expect.objectContaining({ name: '融泊公司', gridIds: ['grid-02'] })]);
    const departments = kinds('department').map((o) => o.name).join(' ');
    for (const d of ['公安', '市场监管', '执法']) expect(departments).toContain(d);
    expect(kinds('social-organization').length).toBeGreaterThanOrEqual(1);
    const gridIds = new Set(await community.gridIds());
    for (const o of orgs) {
      expect(o.gridIds.length).toBeGreaterThanOrEqual(1);
      expect(o.gridIds.every((g) => gridIds.has(g))).toBe(true);
    }
  });
});

describe('the community service', () => {
  test('a task for the grid-worker of grid-05 goes to that grid\'s full-time worker and nobody else', async () => {
    const resolved = await community.resolveRole('grid-05', 'grid-worker');
    expect(resolved.map((m) => m.id)).toEqual(['m-grid-05-worker']);
    expect((await community.resolveRole('grid-05', 'grid-leader')).map((m) => m.id)).toEqual(['m-grid-05-leader']);
    expect((await community.resolveRole('grid-05', 'grid-police')).map((m) => m.id)).toEqual(['m-grid-05-police']);
  });

  test('the party secretary and community managers resolve whatever the grid', async () => {
    for (const grid of ['grid-05', 'grid-11', null]) {
      expect((await community.resolveRole(grid, 'party-secretary')).map((m) => m.id)).toEqual(['m-party-secretary']);
      expect((await community.resolveRole(grid, 'community-manager')).map((m) => m.id)).toEqual(['m-community-manager-1', 'm-community-manager-2']);
    }
  });

  test('an unknown role, an unknown grid or a grid role without a grid resolves to nobody', async () => {
    expect(await community.resolveRole('grid-05', 'no-such-role')).toEqual([]);
    expect(await community.resolveRole('grid-05', 'partner')).toEqual([]);
    expect(await community.resolveRole('grid-99', 'grid-worker')).toEqual([]);
    expect(await community.resolveRole(null, 'grid-worker')).toEqual([]);
  });

  test('a member who is no longer active takes no tasks', async () => {
    const conn = em().getConnection();
    await conn.execute(`update member set active = false where id = 'm-grid-07-part-time-2'`);
    try {
      expect((await community.resolveRole('grid-07', 'grid-part-time')).map((m) => m.id)).toEqual(['m-grid-07-part-time-1']);
    } finally {
      await conn.execute(`update member set active = true where id = 'm-grid-07-part-time-2'`);
    }
  });

  test('gridExists knows the 12 grids and nothing else', async () => {
    expect(await community.gridExists('grid-01')).toBe(true);
    expect(await community.gridExists('grid-12')).toBe(true);
    expect(await community.gridExists('grid-13')).toBe(false);
    expect(await community.gridExists('')).toBe(false);
  });

  test('maskPhone keeps the first 3 and last 4 digits', () => {
    expect(maskPhone('13812345678')).toBe('138****5678');
    expect(maskPhone('1234')).toBe('****');
  });
});

describe('GET /api/grids', () => {
  test('lists the 12 grids with their size and counts of sites and members', async () => {
    const res = await get('/api/grids');
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(12);
    expect(res.body.items[0]).toEqual({ id: 'grid-01', name: '第一网格', households: expect.any(Number), residents: expect.any(Number), sites: 1, members: expect.any(Number) });
    expect(sum(res.body.items.map((g: { households: number }) => g.households))).toBe(4635);
    expect(sum(res.body.items.map((g: { sites: number }) => g.sites))).toBe(14);
    for (const g of res.body.items) {
      expect(g.members).toBeGreaterThanOrEqual(5);
      expect(g.members).toBeLessThanOrEqual(6);
    }
  });

  test('one grid shows its sites and its members with masked phone numbers only', async () => {
    const res = await get('/api/grids/grid-03');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: 'grid-03', name: '第三网格', sites: [{ id: 'shengshi-huating-north', name: '盛世华庭北区', kind: 'compound', households: res.body.households }] });
    expect(res.body.members.map((m: { role: string }) => m.role)).toEqual(['grid-leader', 'grid-worker', 'grid-part-time', 'grid-part-time', 'grid-part-time', 'grid-police']);
    const worker = await em().findOneOrFail(Member, { id: 'm-grid-03-worker' });
    expect(res.body.members[1]).toEqual({ id: 'm-grid-03-worker', name: '第三网格专职网格员', role: 'grid-worker', phone: maskPhone(key.decryptText(worker.phone)) });
    for (const m of res.body.members) expect(m.phone).toMatch(/^138\*{4}\d{4}$/);
    expect(res.text).not.toMatch(/\d{11}/);
    expect(res.text).not.toContain(key.decryptText(worker.phone));
  });

  test('an unknown grid is a 404 problem naming the grids that exist', async () => {
    const res = await get('/api/grids/grid-99');
    expect(res.status).toBe(404);
    expect(res.type).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 404, title: 'Not Found' });
    expect(res.body.detail).toBe(`grid "grid-99" does not exist; known: ${(await community.gridIds()).join(', ')}`);
    expect(res.body.detail).toContain('grid-01');
  });

  test('a grid worker sees only their own grid', async () => {
    const list = await get('/as-grid-03-worker/api/grids');
    expect(list.body.items.map((g: { id: string }) => g.id)).toEqual(['grid-03']);
    expect((await get('/as-grid-03-worker/api/grids/grid-03')).status).toBe(200);
    const other = await get('/as-grid-03-worker/api/grids/grid-04');
    expect(other.status).toBe(403);
    expect(other.type).toMatch(/application\/problem\+json/);
  });
});
