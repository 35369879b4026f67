import { EntitySchema } from '@mikro-orm/core';

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
  id!: string;
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
    contactName: { type: 'string', length: 100 },
    phone: { type: 'string', length: 200 },
  },
});

export const communityEntities = [GridSchema, SiteSchema, MemberSchema, OrganizationSchema];
