import type { MikroORM } from '@mikro-orm/postgresql';
import { COMMUNITY_ROLES, Community, GRID_ROLES, Grid, Member, Site } from '../db/community.entities';
import { DEFAULT_COMMUNITY } from '../engine/community';
import type { DataKey } from '../infra/crypto';
import { notFound } from './errors';

export interface GridSummary {
  id: string;
  name: string;
  households: number;
  residents: number;
  sites: number;
  members: number;
}

export interface GridDetail {
  id: string;
  name: string;
  households: number;
  residents: number;
  description: string | null;
  sites: Site[];
  /** Active members, leader first. Phones are in clear: mask them before they leave the server. */
  members: Member[];
}

const ROLE_ORDER: readonly string[] = [...GRID_ROLES, ...COMMUNITY_ROLES];
const byRole = (a: Member, b: Member) => ROLE_ORDER.indexOf(a.role) - ROLE_ORDER.indexOf(b.role) || a.id.localeCompare(b.id);

/** `13812345678` -> `138****5678`; anything shorter than 8 characters is masked whole. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\s+/g, '');
  if (digits.length < 8) return '*'.repeat(digits.length);
  return `${digits.slice(0, 3)}${'*'.repeat(digits.length - 7)}${digits.slice(-4)}`;
}

/** The community registry: grids, their sites and staff, and who takes a task given to a role. */
export class CommunityService {
  constructor(
    private readonly orm: MikroORM,
    private readonly key?: DataKey,
  ) {}

  /** Encrypts phone numbers still stored in clear (after seeding or an import). Returns how many. */
  async protectPhones(): Promise<number> {
    if (!this.key) throw new Error('protectPhones needs the data key');
    const conn = this.orm.em.getConnection();
    let n = 0;
    for (const table of ['member', 'organization']) {
      const rows = await conn.execute<{ id: string; phone: string }[]>(`select id, phone from ${table} where phone not like 'enc:v1:%'`);
      for (const r of rows) {
        await conn.execute(`update ${table} set phone = ? where id = ?`, [this.key.encryptText(r.phone), r.id]);
        n++;
      }
    }
    return n;
  }

  /** A phone number in clear, for the roles that may see it; the caller audits the reading. */
  async phoneOf(memberId: string): Promise<string> {
    const m = await this.orm.em.fork().findOne(Member, { id: memberId, active: true });
    if (!m) throw notFound(`member "${memberId}" does not exist`);
    return this.clear(m.phone);
  }

  async audit(actor: string, action: string, subject: string, data: Record<string, unknown>): Promise<void> {
    await this.orm.em.getConnection().execute(`insert into audit_log (at, actor, action, subject, data) values (now(), ?, ?, ?, ?)`, [actor, action, subject, JSON.stringify(data)]);
  }

  private clear(phone: string): string {
    return this.key ? this.key.decryptText(phone) : phone;
  }

  /** The grid keys of `community`, or of every community (a schedule's fan-out) when it is 'all'. */
  async gridIds(community: string | 'all' = DEFAULT_COMMUNITY): Promise<string[]> {
    const rows = await this.orm.em.fork().find(Grid, community === 'all' ? {} : { communityId: community }, { orderBy: { id: 'asc' }, fields: ['id'] });
    return rows.map((g) => g.id);
  }

  async gridExists(id: string): Promise<boolean> {
    const rows = await this.orm.em.getConnection().execute(`select 1 from grid where id = ? limit 1`, [id]);
    return rows.length > 0;
  }

  async communities(): Promise<Community[]> {
    return this.orm.em.fork().find(Community, {}, { orderBy: { id: 'asc' } });
  }

  async communityExists(id: string): Promise<boolean> {
    return (await this.orm.em.fork().count(Community, { id })) > 0;
  }

  /** The ids of the communities of `street`, in order. */
  async streetCommunities(street: string): Promise<string[]> {
    const rows = await this.orm.em.fork().find(Community, { streetId: street }, { orderBy: { id: 'asc' }, fields: ['id'] });
    return rows.map((c) => c.id);
  }

  /** The grids of `community` (or of all, 'all'), with their counts of sites and active members. */
  async listGrids(community: string | 'all' = DEFAULT_COMMUNITY): Promise<GridSummary[]> {
    const em = this.orm.em.fork();
    const [grids, siteCounts, memberCounts] = await Promise.all([
      em.find(Grid, community === 'all' ? {} : { communityId: community }, { orderBy: { id: 'asc' } }),
      em.getConnection().execute<{ grid_id: string; n: string }[]>(`select grid_id, count(*) as n from site group by grid_id`),
      em.getConnection().execute<{ grid_id: string; n: string }[]>(`select grid_id, count(*) as n from member where active and grid_id is not null group by grid_id`),
    ]);
    const count = (rows: { grid_id: string; n: string }[]) => new Map(rows.map((r) => [r.grid_id, Number(r.n)]));
    const sites = count(siteCounts);
    const members = count(memberCounts);
    return grids.map((g) => ({ id: g.id, name: g.name, households: g.households, residents: g.residents, sites: sites.get(g.id) ?? 0, members: members.get(g.id) ?? 0 }));
  }

  /** One grid with its sites and active members; 404 naming the grids that exist. */
  async getGrid(id: string): Promise<GridDetail> {
    const em = this.orm.em.fork();
    const grid = await em.findOne(Grid, { id });
    if (!grid) {
      const known = await this.gridIds();
      throw notFound(`grid "${id}" does not exist; known: ${known.join(', ') || 'none'}`);
    }
    const [sites, members] = await Promise.all([
      em.find(Site, { gridId: id }, { orderBy: { id: 'asc' } }),
      em.find(Member, { gridId: id, active: true }),
    ]);
    // Phones leave this service only to be masked by the route, or through phoneOf for the roles that may.
    const readable = members.map((m) => Object.assign(Object.create(Object.getPrototypeOf(m)), m, { phone: this.clear(m.phone) }) as Member);
    return { id: grid.id, name: grid.name, households: grid.households, residents: grid.residents, description: grid.description ?? null, sites, members: readable.sort(byRole) };
  }

  /** One active member by id: who they are, their role and grid. */
  async member(id: string): Promise<{ id: string; name: string; role: string; gridId: string | null; organizationId: string | null; communityId: string } | undefined> {
    // Asked on every event a member sends: the columns it needs, without hydrating an entity (and its encrypted phone).
    const [m] = await this.orm.em
      .fork()
      .getConnection()
      .execute<{ id: string; name: string; role: string; grid_id: string | null; organization_id: string | null; community_id: string }[]>(
        `select id, name, role, grid_id, organization_id, community_id from member where id = ? and active`,
        [id],
      );
    return m ? { id: m.id, name: m.name, role: m.role, gridId: m.grid_id ?? null, organizationId: m.organization_id ?? null, communityId: m.community_id } : undefined;
  }

  /** The community of a member, active or not; the default one for an id the registry does not know. */
  async communityOfMember(id: string): Promise<string> {
    const m = await this.orm.em.fork().findOne(Member, { id }, { fields: ['communityId'] });
    return m?.communityId ?? DEFAULT_COMMUNITY;
  }

  /** The active staff of each of `gridIds` (id, name and role), leader first, for the duty rota. */
  async staff(gridIds: string[]): Promise<Map<string, { id: string; name: string; role: string }[]>> {
    const out = new Map<string, { id: string; name: string; role: string }[]>(gridIds.map((g) => [g, []]));
    if (!gridIds.length) return out;
    const rows = await this.orm.em.fork().find(Member, { gridId: { $in: gridIds }, active: true }, { fields: ['id', 'name', 'role', 'gridId'] });
    for (const m of rows.sort((a, b) => ROLE_ORDER.indexOf(a.role) - ROLE_ORDER.indexOf(b.role) || a.id.localeCompare(b.id))) out.get(m.gridId as string)?.push({ id: m.id, name: m.name, role: m.role });
    return out;
  }

  /** The active members of an outside organisation (who take the work given to it). */
  async organizationMembers(organizationId: string): Promise<Member[]> {
    return this.orm.em.fork().find(Member, { organizationId, active: true }, { orderBy: { id: 'asc' } });
  }

  /**
   * The active members who take a task given to `role`: grid roles within `gridId` (none without a
   * grid), community roles wherever the task's grid is; an unknown role resolves to nobody.
   */
  async resolveRole(gridId: string | null, role: string, organization?: string, community: string = DEFAULT_COMMUNITY): Promise<Member[]> {
    const em = this.orm.em.fork();
    // The partner of a process: the members of the organisation that owns its work.
    if (role === 'partner') return organization ? this.organizationMembers(organization) : [];
    if ((COMMUNITY_ROLES as readonly string[]).includes(role)) {
      // The community's own staff; the street office of its street sits in one community's registry.
      if (role === 'street-office') {
        const rows = await em.getConnection().execute<{ id: string }[]>(
          `select m.id from member m join community mc on mc.id = m.community_id join community pc on pc.street_id = mc.street_id
            where m.role = 'street-office' and m.grid_id is null and m.active and pc.id = ? order by m.id`,
          [community],
        );
        return rows.length ? em.find(Member, { id: { $in: rows.map((r) => r.id) } }, { orderBy: { id: 'asc' } }) : [];
      }
      return em.find(Member, { role: role as Member['role'], gridId: null, communityId: community, active: true }, { orderBy: { id: 'asc' } });
    }
    if ((GRID_ROLES as readonly string[]).includes(role) && gridId) {
      return em.find(Member, { role: role as Member['role'], gridId, active: true }, { orderBy: { id: 'asc' } });
    }
    return [];
  }
}
