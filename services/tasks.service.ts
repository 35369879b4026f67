import type { MikroORM } from '@mikro-orm/postgresql';
import * as readModel from '../db/read-model';
import type { OpenTaskRecord } from '../db/read-model';
import { communitiesOf, mayReachProcess, type Principal } from './principal';
import { DEFAULT_ZONE, formatLocal } from '../engine/time';
import type { CommunityService } from './community.service';
import { badRequest, conflict, forbidden, notFound } from './errors';
import type { ProcessService } from './processes.service';
import type { DefinitionService, LoadedDefinition } from './definitions.service';
import type { ActorService } from './actors.service';
import type { RotaService } from './rota.service';
import { ROTA_ROLE, rotaDay, type DutyReason } from '../engine/rota';
import type { Actor } from '../engine/access';
import { GRID_ROLES } from '../db/community.entities';
import { allowedEvents, ownerOf, type Instance } from '../engine/engine';

export interface TaskItem {
  id: string;
  workflowId: string;
  definition: string;
  title: string;
  processTitle: string;
  grid: string | null;
  /** The community of the task's process. */
  community: string;
  state: string;
  role: string;
  /** The member doing it: the one who claimed it, else the role's only holder in the grid. */
  assignee: string | null;
  /** Who outside the office owns the work (a property company, a department), when the process says. */
  owner?: string;
  /** The registry id of that organisation, when the decision named one. */
  ownerId?: string;
  /** When the duty rota chose the assignee: the day, why (stand-in, cover, nobody on duty) and for whom. */
  rota?: { day: string; why: DutyReason; for?: string };
  claimed: boolean;
  dueAt?: string;
  overdue: boolean;
  events: string[];
}

/** Roles whose holders in a grid are several people: their tasks wait for someone to claim them. */
const SHARED_ROLES = new Set(['grid-part-time']);
/** Who may hand a task to someone else. */
const REASSIGNERS = new Set<Principal['role']>(['admin', 'manager', 'grid-leader']);

/**
 * Open human tasks, derived from the state each running instance is in (the read model keeps
 * the tasks of the current state). Claims and reassignments are stored and audited.
 */
export class TaskService {
  constructor(
    private readonly deps: { orm: MikroORM; community: CommunityService; processes: ProcessService; definitions?: DefinitionService; actors?: ActorService; rota?: RotaService },
  ) {}

  /**
   * The events of a task this person may send (the definition's rules for their role and grid;
   * separation of duties and due times are left to the workflow, which checks everything again).
   */
  private async mayNowSend(r: OpenTaskRecord, actor: Actor | undefined, rotaHolder?: string | null): Promise<string[]> {
    if (!actor || !this.deps.definitions) return r.task.events;
    let def: LoadedDefinition;
    try {
      def = await this.deps.definitions.get(r.definitionKey, r.definitionVersion);
    } catch {
      return r.task.events;
    }
    const inst: Instance = { value: r.stateValue, context: r.context, status: 'running', seq: 0, entered: {}, deadlines: [] };
    const held = r.claimMember === actor.id || (rotaHolder != null && rotaHolder === actor.id) ? [r.task.state] : [];
    const allowed = new Set(allowedEvents(def.compiled, inst, { ...actor, holds: held }, Date.now()));
    return r.task.events.filter((e) => allowed.has(e));
  }

  private async view(rows: OpenTaskRecord[], actor?: Actor): Promise<TaskItem[]> {
    const now = Date.now();
    const holders = new Map<string, string | null>();
    const holderOf = async (grid: string | null, role: string, organization: string | undefined, community: string) => {
      const key = `${community}|${grid}|${role}|${organization ?? ''}`;
      if (!holders.has(key)) {
        const members = SHARED_ROLES.has(role) ? [] : await this.deps.community.resolveRole(grid, role, organization, community);
        holders.set(key, members.length === 1 ? members[0].id : null);
      }
      return holders.get(key) as string | null;
    };
    // The worker's tasks go to whoever the duty rota has on duty that day, where it says anything.
    const today = this.deps.rota?.today() ?? '';
    const dayOf = (r: OpenTaskRecord) => rotaDay(r.context?.day, today);
    const worked = rows.filter((r) => r.grid && r.task.role === ROTA_ROLE);
    const duty = this.deps.rota && worked.length ? await this.deps.rota.dutyOn(worked.map((r) => ({ grid: r.grid as string, day: dayOf(r) }))) : new Map();
    const out: TaskItem[] = [];
    for (const r of rows) {
      const due = r.task.dueAt ? Date.parse(r.task.dueAt) : undefined;
      const onDuty = r.grid && r.task.role === ROTA_ROLE ? duty.get(`${r.grid}|${dayOf(r)}`) : undefined;
      const byRota = onDuty ? { member: onDuty.worker.member, rota: { day: dayOf(r), why: onDuty.worker.why, ...(onDuty.worker.for ? { for: onDuty.worker.for } : {}) } } : undefined;
      out.push({
        id: r.task.id,
        workflowId: r.workflowId,
        definition: r.definitionKey,
        title: r.task.title,
        processTitle: r.title,
        grid: r.grid,
        community: r.community,
        state: r.task.state,
        role: r.task.role,
        assignee: r.claimMember ?? (byRota ? byRota.member : await holderOf(r.grid, r.task.role, ownerOf(r.context) ?? undefined, r.community)),
        ...(r.task.assignee ? { owner: r.task.assignee } : {}),
        ...(ownerOf(r.context) ? { ownerId: ownerOf(r.context) as string } : {}),
        ...(byRota && r.claimMember === null ? { rota: byRota.rota } : {}),
        claimed: r.claimMember !== null,
        ...(due !== undefined ? { dueAt: formatLocal(due, DEFAULT_ZONE) } : {}),
        overdue: due !== undefined && due < now,
        events: await this.mayNowSend(r, actor, byRota?.member),
      });
    }
    return out;
  }

  /** Tasks the caller may see; `assignee: 'me'` narrows to the caller's own (claimed or by role). */
  async list(principal: Principal, q: { assignee?: string; grid?: string; role?: string; overdue?: boolean; communities?: string[] }): Promise<TaskItem[]> {
    // A partner's tasks: the work given to its organisation, in any grid.
    const reach = communitiesOf(principal);
    const communities = q.communities ?? (reach === 'all' ? undefined : reach);
    const scope = principal.organizationId ? { organization: principal.organizationId } : { grids: principal.grids, ...(communities ? { communities } : {}) };
    const actor = this.deps.actors ? await this.deps.actors.self(principal, '') : undefined;
    let items = await this.view(await readModel.openTasks(this.deps.orm, { ...scope, grid: q.grid, role: q.role }), actor);
    if (q.assignee) {
      const me = q.assignee === 'me' ? principal.memberId : q.assignee;
      if (!me) throw badRequest('assignee=me needs a token that names a member; create one with a member id', [{ path: 'assignee', message: 'this token speaks for no member' }]);
      const member = await this.deps.community.member(me);
      // A task the rota gives nobody (everyone away) is no one's own: the grid leader sees it in the grid's list.
      items = items.filter((t) => t.assignee === me || (!t.claimed && t.assignee === null && !t.rota && member !== undefined && member.role === t.role && (member.gridId === t.grid || member.gridId === null)));
    }
    if (q.overdue !== undefined) items = items.filter((t) => t.overdue === q.overdue);
    return items;
  }

  private async one(taskId: string, principal: Principal): Promise<TaskItem> {
    const workflowId = taskId.split('#')[0];
    const items = await this.view(await readModel.openTasks(this.deps.orm, { task: { workflowId, id: taskId } }));
    const task = items[0];
    // Someone else's grid is indistinguishable from nothing at all.
    if (!task || !mayReachProcess(principal, { grid: task.grid, owner: task.ownerId, community: task.community })) throw notFound(`task "${taskId}" does not exist or is done`);
    return task;
  }

  private async audit(actor: string, action: string, subject: string, data: Record<string, unknown>) {
    await this.deps.orm.em.getConnection().execute(`insert into audit_log (at, actor, action, subject, data) values (now(), ?, ?, ?, ?)`, [actor, action, subject, JSON.stringify(data)]);
  }

  /** Takes a task of a role several people hold (part-time members) for the caller. */
  async claim(taskId: string, principal: Principal): Promise<TaskItem> {
    const task = await this.one(taskId, principal);
    if (!principal.memberId) throw badRequest('claiming needs a token that names a member');
    const member = await this.deps.community.member(principal.memberId);
    if (!SHARED_ROLES.has(task.role)) {
      throw forbidden(`task "${taskId}" is for the ${task.role} of ${task.grid ?? 'the community'}; only tasks several people share (${[...SHARED_ROLES].join(', ')}) are claimed; a grid leader or a manager may hand it to you`);
    }
    if (!member || member.role !== task.role || (member.gridId !== null && member.gridId !== task.grid)) {
      throw forbidden(`task "${taskId}" is for ${task.role} of ${task.grid ?? 'the community'}; you are ${member?.role ?? 'unknown'} of ${member?.gridId ?? 'the community'}`);
    }
    if (task.claimed && task.assignee !== principal.memberId) throw conflict(`task "${taskId}" is already claimed by ${task.assignee}`);
    await readModel.saveTaskClaim(this.deps.orm, { taskId, workflowId: task.workflowId, memberId: principal.memberId, by: principal.memberId });
    await this.audit(principal.name, 'task.claim', taskId, { member: principal.memberId });
    return this.one(taskId, principal);
  }

  /** Hands a task to another member (grid leaders within their grids, managers anywhere). */
  async reassign(taskId: string, memberId: string, principal: Principal): Promise<TaskItem> {
    if (!REASSIGNERS.has(principal.role)) throw forbidden(`only a grid leader or a manager may reassign tasks; you are ${principal.role}`);
    const task = await this.one(taskId, principal);
    const member = await this.deps.community.member(memberId);
    if (!member) throw badRequest(`member "${memberId}" does not exist`, [{ path: 'memberId', message: 'see GET /api/grids/:id for members' }]);
    // A grid leader hands on the grid's own work to the grid's own people; the levels above and partners are not theirs to give away.
    if (principal.role === 'grid-leader') {
      if (!(GRID_ROLES as readonly string[]).includes(task.role)) throw forbidden(`task "${taskId}" is for the ${task.role}; a grid leader hands on grid tasks only; ask a manager`);
      if (!(GRID_ROLES as readonly string[]).includes(member.role) || member.gridId !== task.grid) {
        throw badRequest(`member "${memberId}" is not one of ${task.grid}'s staff`, [{ path: 'memberId', message: `a member of ${task.grid}` }]);
      }
    }
    if (member.communityId !== task.community) {
      throw badRequest(`member "${memberId}" belongs to community ${member.communityId}, the task to ${task.community}`, [{ path: 'memberId', message: `a member of ${task.community}` }]);
    }
    if (member.gridId !== null && task.grid !== null && member.gridId !== task.grid) {
      throw badRequest(`member "${memberId}" belongs to ${member.gridId}, the task to ${task.grid}`, [{ path: 'memberId', message: `a member of ${task.grid}` }]);
    }
    await readModel.saveTaskClaim(this.deps.orm, { taskId, workflowId: task.workflowId, memberId, by: principal.name });
    await this.audit(principal.name, 'task.reassign', taskId, { from: task.assignee, to: memberId });
    return this.one(taskId, principal);
  }

  /** Completes a task with one of its events: the same as sending the event to its process. */
  async complete(taskId: string, body: { type: string; data?: Record<string, unknown>; requestId?: string; onBehalfOf?: string }, principal: Principal) {
    const task = await this.one(taskId, principal);
    if (!task.events.includes(body.type)) {
      throw conflict(`task "${taskId}" is completed with ${task.events.join(', ')}, not "${body.type}"`, { accepts: task.events });
    }
    const { onBehalfOf, ...event } = body;
    const by = await this.deps.processes.actorOf(principal, task.workflowId, onBehalfOf, body.type);
    return this.deps.processes.sendEvent(task.workflowId, event, by);
  }
}
