import { EntitySchema } from '@mikro-orm/core';
import { DEFAULT_COMMUNITY } from '../engine/community';

export const SITE_KINDS = ['compound', 'building', 'bungalow-area'] as const;
export type SiteKind = (typeof SITE_KINDS)[number];

/** Roles of the "一长一专多兼一警" grid staffing, then the community level above the grids. */
export const GRID_ROLES = ['grid-leader', 'grid-worker', 'grid-part-time', 'grid-police'] as const;
export const COMMUNITY_ROLES = ['party-secretary', 'community-manager', 'street-office'] as const;
/** Members of an outside organisation: the work given to their organisation is theirs. */
export const ORGANIZATION_ROLES = ['partner'] as const;
export const MEMBER_ROLES = [...GRID_ROLES, ...COMMUNITY_ROLES, ...ORGANIZATION_ROLES] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

export const ORGANIZATION_KINDS = ['partner-unit', 'property-company', 'department', 'social-organization'] as const;
export type OrganizationKind = (typeof ORGANIZATION_KINDS)[number];

/** One grid (网格) of 300-500 households. */
export class Grid {
  /** The grid key: `grid-03` in the default community, `linyuan.grid-03` in another (engine/community.ts). */
  id!: string;
  communityId: string = DEFAULT_COMMUNITY;
  name!: string;
  households!: number;
  residents!: number;
  description?: string | null;
}

export const GridSchema = new EntitySchema<Grid>({
  class: Grid,
  tableName: 'grid',
  properties: {
    id: { type: 'string', length: 50, primary: true },
    communityId: { type: 'string', length: 30, default: DEFAULT_COMMUNITY, index: true },
    name: { type: 'string', length: 100 },
    households: { type: 'integer' },
    residents: { type: 'integer' },
    description: { type: 'text', nullable: true },
  },
});

/** A residential compound, single building or bungalow area; each lies in exactly one grid. */
export class Site {
  id!: string;
  name!: string;
  kind!: SiteKind;
  gridId!: string;
  households!: number;
}

export const SiteSchema = new EntitySchema<Site>({
  class: Site,
  tableName: 'site',
  indexes: [{ properties: ['gridId'] }],
  properties: {
    id: { type: 'string', length: 50, primary: true },
    name: { type: 'string', length: 100 },
    kind: { type: 'string', length: 20 },
    gridId: { type: 'string', length: 50 },
    households: { type: 'integer' },
  },
});

/** A person who takes tasks: grid staff (gridId set), community level (gridId null) or a partner (organizationId set). */
export class Member {
  id!: string;
  name!: string;
  role!: MemberRole;
  gridId?: string | null;
  organizationId?: string | null;
  /** The community whose registry holds the member; a street-office member reaches its whole street from there. */
  communityId: string = DEFAULT_COMMUNITY;
  phone!: string;
  active: boolean = true;
}

export const MemberSchema = new EntitySchema<Member>({
  class: Member,
  tableName: 'member',
  indexes: [{ properties: ['gridId', 'role'] }, { properties: ['organizationId'] }],
  properties: {
    id: { type: 'string', length: 100, primary: true },
    name: { type: 'string', length: 100 },
    role: { type: 'string', length: 50 },
    gridId: { type: 'string', length: 50, nullable: true },
    organizationId: { type: 'string', length: 100, nullable: true },
    communityId: { type: 'string', length: 30, default: DEFAULT_COMMUNITY, index: true },
    phone: { type: 'string', length: 200 },
    active: { type: 'boolean', default: true },
  },
});

/** An outside party that takes on work: partner unit, property company, department, social organisation. */
export class Organization {
  id!: string;
  name!: string;
  kind!: OrganizationKind;
  gridIds!: string[];
  communityId: string = DEFAULT_COMMUNITY;
  contactName!: string;
  phone!: string;
}

export const OrganizationSchema = new EntitySchema<Organization>({
  class: Organization,
  tableName: 'organization',
  properties: {
    id: { type: 'string', length: 100, primary: true },
    name: { type: 'string', length: 200 },
    kind: { type: 'string', length: 30 },
    gridIds: { type: 'json' },
    communityId: { type: 'string', length: 30, default: DEFAULT_COMMUNITY, index: true },
    contactName: { type: 'string', length: 100 },
    phone: { type: 'string', length: 200 },
  },
});

/** A community (社区) and the street office (街道) it belongs to: the unit of tenancy. */
export class Community {
  id!: string;
  name!: string;
  streetId!: string;
  streetName!: string;
  households: number = 0;
  residents: number = 0;
}

export const CommunitySchema = new EntitySchema<Community>({
  class: Community,
  tableName: 'community',
  properties: {
    id: { type: 'string', length: 30, primary: true },
    name: { type: 'string', length: 100 },
    streetId: { type: 'string', length: 30, index: true },
    streetName: { type: 'string', length: 100 },
    households: { type: 'integer', default: 0 },
    residents: { type: 'integer', default: 0 },
  },
});

export const communityEntities = [CommunitySchema, GridSchema, SiteSchema, MemberSchema, OrganizationSchema];
