import { z } from 'zod';
import { DEFAULT_COMMUNITY, describeCommunities, processCommunity, reachesCommunity, type CommunityReach } from './community';
import { formatLocal } from './time';

/**
 * Who may send an event to a process instance. Pure: the workflow runs it on every path (an API
 * event, a task completion, another process's event), the API runs it to say what a caller may
 * send, and the simulator can run it for a role.
 */

/** Someone or something sending an event. */
export interface Actor extends CommunityReach {
  kind: 'person' | 'process';
  /** A person: the member id, else the token's name. A process: its workflow id. */
  id: string;
  /** A person: the member's role in the registry, else the token's role. A process: its definition key. */
  role: string;
  /** The grids the actor may reach; 'all' for the community level (of its communities: `community`, `communities`). */
  grids: string[] | 'all';
  /** A partner's organisation: it reaches the processes whose owner (`context.owner.id`) it is. */
  org?: string;
  /** Task states (state keys) this person holds in the instance by claim or reassignment. */
  holds?: string[];
  /**
   * A manager acting for the person above (`onBehalfOf`), or, for a process, the person whose
   * event made it send this one. Separation of duties applies to both.
   */
  by?: Actor;
}

const roleName = z.string().regex(/^[a-z][a-z0-9-]*$/, 'a role in kebab-case, e.g. "grid-leader"');

export const accessRule = z.strictObject({
  /** Roles that may send the event. */
  roles: z.array(roleName).optional(),
  /** Roles by the value of a context field, replacing `roles` when the value has an entry (the level). */
  rolesBy: z
    .strictObject({
      ref: z.string().regex(/^context(\.[A-Za-z0-9_$-]+)+$/, 'a context path, e.g. "context.level"'),
      values: z.record(z.string(), z.array(roleName)),
    })
    .optional(),
  /** Whether the holder of the state's task (claimed or reassigned) may send it too; default true. */
  assignee: z.boolean().optional(),
  /** Definitions whose processes may send it (a weekly report's escalations). */
  processes: z.array(z.string().regex(/^[a-z][a-z0-9-]*$/)).optional(),
  /** Separation of duties: not whoever sent the latest of these events in this instance. */
  notBy: z.array(z.string().regex(/^[A-Z][A-Z0-9_]*$/)).optional(),
  /** Only before the due time of the current state's task (an extension asked in time). */
  beforeDue: z.boolean().optional(),
  description: z.string().optional(),
});
export type AccessRule = z.infer<typeof accessRule>;

/** The document's `access` block: event type -> rule. */
export const accessBlock = z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'an event type in SCREAMING_CASE'), accessRule);

/** Roles a manager-level token holds; they may act for a member with `onBehalfOf`. */
export const ACTING_FOR_ROLES = ['admin', 'manager', 'party-secretary', 'community-manager'] as const;

/** Identities that count for separation of duties: the person and whoever acted through them. */
export function identities(actor: Actor): string[] {
  const out: string[] = [];
  if (actor.kind === 'person') out.push(actor.id);
  if (actor.by) out.push(...identities(actor.by));
  return [...new Set(out)];
}

export interface AccessContext {
  definition: string;
  event: string;
  state: string;
  grid: string | null;
  /** The process's community (engine/community.ts); absent means the default one. */
  community?: string;
  /** The organisation that owns the work (`context.owner.id`), if any. */
  owner?: string | null;
  context: Record<string, unknown>;
  /** The rule the document gives, if any. */
  rule?: AccessRule;
  /** Roles and state keys of the active states' tasks: the default when the document names no rule. */
  tasks: { state: string; role: string }[];
  /** Identities behind the latest event of each type. */
  actors: Record<string, string[]>;
  /** Due time of the current task, for `beforeDue`, and the time of the event (epoch ms). */
  dueAt?: number;
  at: number;
  zone: string;
}

export type AccessDenial = { code: 'forbidden' | 'too-late'; message: string };

function read(context: Record<string, unknown>, ref: string): unknown {
  let cur: unknown = { context };
  for (const part of ref.split('.')) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[part] : undefined;
  return cur;
}

/** The roles a rule names for this instance now (after `rolesBy`), or the tasks' roles when it names none. */
export function rolesFor(a: Pick<AccessContext, 'rule' | 'tasks' | 'context'>): string[] {
  const rule = a.rule;
  if (!rule) return [...new Set(a.tasks.map((t) => t.role))];
  if (rule.rolesBy) {
    const v = read(a.context, rule.rolesBy.ref);
    const byValue = typeof v === 'string' ? rule.rolesBy.values[v] : undefined;
    if (byValue) return byValue;
  }
  return rule.roles ?? [];
}

const scope = (grid: string | null, community?: string) => (grid ? `of ${grid}` : community && community !== DEFAULT_COMMUNITY ? `of community ${community}` : 'of the community');

/** Another community's process is out of reach like another grid's; a partner reaches the work its organisation owns. */
function reaches(actor: Actor, grid: string | null, owner?: string | null, community?: string): boolean {
  if (actor.org && owner && actor.org === owner) return true;
  if (!reachesCommunity(actor, community ?? processCommunity(grid))) return false;
  if (actor.grids === 'all') return true;
  return grid !== null && actor.grids.includes(grid);
}

/** Where an actor belongs, in words: `grid-03`, `the community`, `the community linyuan`, `the street's shengshi, linyuan`. */
function home(actor: Actor): string {
  const communities = actor.communities ? `the communities ${describeCommunities(actor)}` : actor.community && actor.community !== DEFAULT_COMMUNITY ? `community ${actor.community}` : 'the community';
  if (actor.grids === 'all') return communities;
  return actor.grids.join(', ') || 'no grid';
}

/** Who may send it, in words: `grid-leader of grid-03, or the monthly-review process`. */
export function describeWho(a: Pick<AccessContext, 'rule' | 'tasks' | 'context' | 'grid' | 'community'>): string {
  const roles = rolesFor(a);
  const parts: string[] = [];
  if (roles.length) parts.push(`${roles.join(' or ')} ${scope(a.grid, a.community)}`);
  if (a.rule?.processes?.length) parts.push(`the ${a.rule.processes.join(' or ')} process`);
  if ((a.rule?.assignee ?? true) && a.tasks.length) parts.push('whoever holds the task');
  return parts.length ? parts.join(', or ') : 'no one (the engine sends it)';
}

/**
 * Whether a process may touch another at all, asked before anything that would tell it about the
 * target (its state, whether it has ended): another grid's process is simply out of reach.
 */
export function checkReach(target: { definition: string; grid: string | null; community?: string }, actor: Actor): AccessDenial | undefined {
  if (actor.kind !== 'process' || reaches(actor, target.grid, undefined, target.community)) return undefined;
  const other = target.community && !reachesCommunity(actor, target.community) ? 'another community' : 'another grid';
  return { code: 'forbidden', message: `${actor.id} belongs to ${home(actor)} and may not touch the ${target.definition} process of ${other}` };
}

/**
 * Checks that `actor` may send the event now. Undefined means yes; otherwise a denial whose message
 * says who may instead.
 */
export function checkAccess(a: AccessContext, actor: Actor): AccessDenial | undefined {
  const what = `event "${a.event}" in state "${a.state}" of ${a.definition}`;
  const who = describeWho(a);
  if (actor.kind === 'process') {
    const allowed = a.rule?.processes?.includes(actor.role) ?? false;
    if (!allowed) return { code: 'forbidden', message: `${what} is not for the ${actor.role} process ${actor.id}; it may be sent by ${who}` };
    if (!reaches(actor, a.grid, undefined, a.community)) {
      return { code: 'forbidden', message: `${what}: ${actor.id} belongs to ${home(actor)} and may not touch a process ${scope(a.grid, a.community)}` };
    }
  } else {
    const roles = rolesFor(a);
    // Holding a task (claimed, or handed over by the leader) lends its role, and only for events that role may send.
    const holdsTask = (a.rule?.assignee ?? true) && (actor.holds ?? []).some((s) => a.tasks.some((t) => t.state === s && roles.includes(t.role)));
    const byRole = roles.includes(actor.role) && reaches(actor, a.grid, a.owner, a.community);
    if (!byRole && !holdsTask) {
      const acting = ACTING_FOR_ROLES.includes(actor.role as (typeof ACTING_FOR_ROLES)[number]) && !actor.by ? '; a manager may send it for one of them with "onBehalfOf"' : '';
      return { code: 'forbidden', message: `${what} may be sent by ${who}; you are ${actor.role} of ${home(actor)}${acting}` };
    }
  }
  for (const earlier of a.rule?.notBy ?? []) {
    const before = new Set(a.actors[earlier] ?? []);
    const clash = identities(actor).find((id) => before.has(id));
    if (clash) {
      return {
        code: 'forbidden',
        message: `${what} must come from someone other than who sent ${earlier} (${clash}); ask another ${rolesFor(a).join(' or ') || 'member'} ${scope(a.grid, a.community)}`,
      };
    }
  }
  if (a.rule?.beforeDue && a.dueAt !== undefined && a.at >= a.dueAt) {
    return { code: 'too-late', message: `${what} must be asked before the task's due time (${formatLocal(a.dueAt, a.zone)}); it is late now, and lateness stands` };
  }
  return undefined;
}
