import type { MikroORM } from '@mikro-orm/postgresql';
import { Community, Grid, Member, Organization, Site, type MemberRole, type OrganizationKind, type SiteKind } from './community.entities';
import { DEFAULT_COMMUNITY, gridKey } from '../engine/community';

/*
 * Shengshi Community (盛世社区, 新华西街道) as the 2022 source document describes it: 4,635 households,
 * 9,281 residents, 12 grids of 300-500 households, 7 compounds, 6 single buildings, 1 bungalow area.
 * The document names neither the grids' sizes nor the staff, nor 1 compound and 2 buildings: those
 * figures are made up to fit the totals and the names are placeholders marked 待核实 (to be checked).
 */
export const COMMUNITY = { name: '盛世社区', street: '新华西街道', households: 4635, residents: 9281 } as const;

const NUMERALS = ['一', '二', '三', '四', '五', '六', '七', '八', '九', '十', '十一', '十二'];

interface SiteSeed {
  id: string;
  name: string;
  kind: SiteKind;
  households: number;
}

// Each grid's households are the sum of its sites'; residents are per grid.
const GRID_LAYOUT: { residents: number; sites: SiteSeed[] }[] = [
  { residents: 851, sites: [{ id: 'xinda-jiayuan', name: '信达家园', kind: 'compound', households: 420 }] },
  { residents: 968, sites: [{ id: 'shengshi-huating-south', name: '盛世华庭南区', kind: 'compound', households: 480 }] },
  { residents: 922, sites: [{ id: 'shengshi-huating-north', name: '盛世华庭北区', kind: 'compound', households: 465 }] },
  { residents: 787, sites: [{ id: 'xiangyuan', name: '祥渊', kind: 'compound', households: 390 }] },
  { residents: 716, sites: [{ id: 'liangshiju', name: '粮食局', kind: 'compound', households: 360 }] },
  { residents: 701, sites: [{ id: 'guangyuan', name: '光源', kind: 'compound', households: 345 }] },
  { residents: 652, sites: [{ id: 'compound-7', name: '第七小区（待核实）', kind: 'compound', households: 330 }] },
  {
    residents: 748,
    sites: [
      { id: 'renhang-building', name: '人行楼', kind: 'building', households: 196 },
      { id: 'gonghang-building', name: '工行楼', kind: 'building', households: 180 },
    ],
  },
  {
    residents: 770,
    sites: [
      { id: 'changxian-building', name: '长线楼', kind: 'building', households: 214 },
      { id: 'shiyou-building', name: '石油公司单体楼', kind: 'building', households: 170 },
    ],
  },
  { residents: 699, sites: [{ id: 'building-5', name: '第五栋单体楼（待核实）', kind: 'building', households: 352 }] },
  { residents: 640, sites: [{ id: 'building-6', name: '第六栋单体楼（待核实）', kind: 'building', households: 318 }] },
  { residents: 827, sites: [{ id: 'xinxinan-bungalows', name: '新西南平房', kind: 'bungalow-area', households: 415 }] },
];

export const gridId = (n: number) => `grid-${String(n).padStart(2, '0')}`;

/**
 * A made-up but stable 138 number per slot (grid number, position in the grid). The multiplier is
 * coprime with 10^8, so distinct slots never share a number. Placeholders: never call or text them.
 */
export function seedPhone(gridNo: number, slot: number): string {
  const key = gridNo * 100 + slot;
  return `138${String((key * 7_654_321 + 24_680_135) % 100_000_000).padStart(8, '0')}`;
}

/** Bigger grids get a third part-time member ("多兼"). */
const partTimeCount = (households: number) => (households >= 400 ? 3 : 2);

export function communitySeed(): { grids: Grid[]; sites: Site[]; members: Member[]; organizations: Organization[] } {
  const grids: Grid[] = [];
  const sites: Site[] = [];
  const members: Member[] = [];
  const member = (id: string, name: string, role: MemberRole, grid: string | null, phone: string): Member =>
    Object.assign(new Member(), { id, name, role, gridId: grid, phone, active: true });

  GRID_LAYOUT.forEach((layout, i) => {
    const n = i + 1;
    const id = gridId(n);
    const name = `第${NUMERALS[i]}网格`;
    const households = layout.sites.reduce((sum, s) => sum + s.households, 0);
    grids.push(Object.assign(new Grid(), { id, name, households, residents: layout.residents, description: `${name}：${layout.sites.map((s) => s.name).join('、')}` }));
    for (const s of layout.sites) sites.push(Object.assign(new Site(), { ...s, gridId: id }));
    const slug = `m-${id}`;
    members.push(member(`${slug}-leader`, `${name}网格长`, 'grid-leader', id, seedPhone(n, 0)));
    members.push(member(`${slug}-worker`, `${name}专职网格员`, 'grid-worker', id, seedPhone(n, 1)));
    for (let k = 1; k <= partTimeCount(households); k++) {
      members.push(member(`${slug}-part-time-${k}`, `${name}兼职网格员${NUMERALS[k - 1]}`, 'grid-part-time', id, seedPhone(n, 1 + k)));
    }
    members.push(member(`${slug}-police`, `${name}网格警`, 'grid-police', id, seedPhone(n, 9)));
  });
  members.push(member('m-party-secretary', '社区党委书记', 'party-secretary', null, seedPhone(0, 0)));
  members.push(member('m-community-manager-1', '社区管理员一', 'community-manager', null, seedPhone(0, 1)));
  members.push(member('m-community-manager-2', '社区管理员二', 'community-manager', null, seedPhone(0, 2)));
  // The street office (新华西街道) above the community: it takes what the community escalates.
  members.push(member('m-street-office', '新华西街道办事处', 'street-office', null, seedPhone(0, 3)));

  const all = grids.map((g) => g.id);
  const org = (slot: number, id: string, name: string, kind: OrganizationKind, gridIds: string[], contactName: string): Organization =>
    Object.assign(new Organization(), { id, name, kind, gridIds, contactName, phone: seedPhone(99, slot) });
  const organizations = [
    // The partner unit with landscaping skills that re-planted the ground behind building 2 of 盛世华庭南区.
    org(1, 'org-partner-unit-1', '包联单位一（园林绿化，待核实）', 'partner-unit', ['grid-01', 'grid-02', 'grid-03', 'grid-04', 'grid-05', 'grid-06'], '包联单位一联系人'),
    org(2, 'org-partner-unit-2', '包联单位二（待核实）', 'partner-unit', ['grid-07', 'grid-08', 'grid-09', 'grid-10', 'grid-11', 'grid-12'], '包联单位二联系人'),
    // 融泊公司 replaced the east, west and north gates of 盛世华庭南区 with smart gates.
    org(3, 'org-rongbo', '融泊公司', 'property-company', ['grid-02'], '融泊公司物业联系人'),
    org(4, 'org-police', '公安（辖区派出所）', 'department', all, '社区民警'),
    org(5, 'org-market-regulation', '市场监管', 'department', all, '市场监管联系人'),
    org(6, 'org-law-enforcement', '执法（综合行政执法）', 'department', all, '执法联系人'),
    org(7, 'org-social-organization-1', '社会组织一（社工服务，待核实）', 'social-organization', all, '社工站联系人'),
  ];
  // One member of each organisation who takes the work given to it (the contact person).
  organizations.forEach((o, i) =>
    members.push(Object.assign(member(`m-${o.id}`, o.contactName, 'partner', null, seedPhone(98, i + 1)), { organizationId: o.id })),
  );
  return { grids, sites, members, organizations };
}

/** Inserts or updates (by id) every seeded row; running it again changes nothing. */
export async function seedCommunity(orm: MikroORM): Promise<{ grids: number; sites: number; members: number; organizations: number }> {
  const seed = communitySeed();
  const households = seed.grids.reduce((sum, g) => sum + g.households, 0);
  const residents = seed.grids.reduce((sum, g) => sum + g.residents, 0);
  if (households !== COMMUNITY.households || residents !== COMMUNITY.residents) {
    throw new Error(`community seed adds up to ${households} households and ${residents} residents; it must be ${COMMUNITY.households} and ${COMMUNITY.residents}`);
  }
  await orm.em.fork().transactional(async (em) => {
    await em.upsert(Community, Object.assign(new Community(), { id: DEFAULT_COMMUNITY, name: COMMUNITY.name, streetId: 'xinhuaxi', streetName: COMMUNITY.street, households: COMMUNITY.households, residents: COMMUNITY.residents }));
    await em.upsertMany(Grid, seed.grids);
    await em.upsertMany(Site, seed.sites);
    // Phone numbers are not overwritten: once stored they are encrypted at rest (or were edited).
    await em.upsertMany(Member, seed.members, { onConflictExcludeFields: ['phone'] });
    await em.upsertMany(Organization, seed.organizations, { onConflictExcludeFields: ['phone'] });
  });
  return { grids: seed.grids.length, sites: seed.sites.length, members: seed.members.length, organizations: seed.organizations.length };
}

/** A made-up community for tests and benches: `grids` grids of 400 households, a leader, a worker, a part-time member and a police officer each. */
export interface GeneratedCommunity {
  id: string;
  name: string;
  street: { id: string; name: string };
  grids: number;
}

export function generatedCommunity(c: GeneratedCommunity): { community: Community; grids: Grid[]; sites: Site[]; members: Member[] } {
  const grids: Grid[] = [];
  const sites: Site[] = [];
  const members: Member[] = [];
  const member = (id: string, name: string, role: MemberRole, grid: string | null, phone: string): Member =>
    Object.assign(new Member(), { id, name, role, gridId: grid, communityId: c.id, phone, active: true });
  // Phone slots apart from Shengshi's (grid numbers 0-99), by a hash of the id; placeholders like Shengshi's.
  const base = 100 + ([...c.id].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) % 9000, 7) * 100);
  const phone = (n: number, slot: number) => seedPhone(base + n, slot);
  for (let n = 1; n <= c.grids; n++) {
    const id = gridKey(c.id, gridId(n));
    const name = `${c.name}第${NUMERALS[n - 1] ?? n}网格`;
    grids.push(Object.assign(new Grid(), { id, communityId: c.id, name, households: 400, residents: 800, description: `${name}（生成的测试数据）` }));
    sites.push(Object.assign(new Site(), { id: `${c.id}-site-${n}`, name: `${name}小区`, kind: 'compound' as SiteKind, gridId: id, households: 400 }));
    const slug = `m-${c.id}-${gridId(n)}`;
    members.push(member(`${slug}-leader`, `${name}网格长`, 'grid-leader', id, phone(n, 0)));
    members.push(member(`${slug}-worker`, `${name}专职网格员`, 'grid-worker', id, phone(n, 1)));
    members.push(member(`${slug}-part-time-1`, `${name}兼职网格员`, 'grid-part-time', id, phone(n, 2)));
    members.push(member(`${slug}-police`, `${name}网格警`, 'grid-police', id, phone(n, 9)));
  }
  members.push(member(`m-${c.id}-party-secretary`, `${c.name}党委书记`, 'party-secretary', null, phone(0, 0)));
  members.push(member(`m-${c.id}-community-manager`, `${c.name}管理员`, 'community-manager', null, phone(0, 1)));
  const community = Object.assign(new Community(), { id: c.id, name: c.name, streetId: c.street.id, streetName: c.street.name, households: 400 * c.grids, residents: 800 * c.grids });
  return { community, grids, sites, members };
}

/** Inserts or updates a generated community (idempotent, like seedCommunity). */
export async function seedGeneratedCommunity(orm: MikroORM, c: GeneratedCommunity): Promise<{ grids: number; members: number }> {
  const seed = generatedCommunity(c);
  await orm.em.fork().transactional(async (em) => {
    await em.upsert(Community, seed.community);
    await em.upsertMany(Grid, seed.grids);
    await em.upsertMany(Site, seed.sites);
    await em.upsertMany(Member, seed.members, { onConflictExcludeFields: ['phone'] });
  });
  return { grids: seed.grids.length, members: seed.members.length };
}
