import { ApplicationFailure, allHandlersFinished, condition, proxyActivities, proxyLocalActivities, setHandler, type RetryPolicy, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { formatLocal } from '../../engine/time';
import { keptTimer } from '../../workflows/kept-timer';
import { serialQueue } from '../../workflows/serial';
import { EVENT_REJECTED, searchAttributeKeys, sendEventUpdate, snapshotQuery, type EventRejectedDetails, type EventRequest, type EventResult, type ProcessResult, type ProcessSnapshot, type ProcessStatus, type TaskSnapshot } from '../../workflows/messages';

/**
 * The baseline of the engine benchmark: the issue process (definitions/issue.definition.yaml)
 * written by hand as a plain Temporal workflow, the way one would without gridflow. It keeps the
 * same contract as the interpreter so the two do the same work per event:
 *
 * - events arrive by the same Update (`gridflow.sendEvent`) with a validator that refuses what the
 *   state does not accept, and are applied one at a time;
 * - every step is projected with the same `recordSteps` activity (same argument shape: snapshot with
 *   context and tasks, plus the step rows), ordinary or local as `projection` says, and the state
 *   search attribute is upserted unless `indexState` is false;
 * - each state's deadlines (task due, reminders, escalations, the overdue timer) are kept in a table
 *   and the workflow sleeps in `condition(changed, untilNextDeadline)`; a due reminder or escalation
 *   becomes a `notify` activity. Working days are counted as calendar days here (the bench never
 *   reaches a deadline; only the timer it arms matters).
 *
 * What it does not carry: the definition document in its input, data-schema validation beyond the
 * required fields, XState, effect keys for arbitrary actions.
 */

const retry: RetryPolicy = { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2 };
const { recordSteps, notify } = proxyActivities<Activities>({ startToCloseTimeout: '30 seconds', retry });
const local = proxyLocalActivities<Activities>({ startToCloseTimeout: '30 seconds', retry });

const ZONE = 'Asia/Shanghai';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TITLE = '五事工作法·问题办理';

type State = 'reported' | 'triage' | 'deliberation' | 'handling' | 'verification' | 'awaiting-evaluation' | 'closed' | 'rejected';

export interface HandIssueInput {
  businessKey: string;
  grid: string;
  input: { source: string; category: string; description: string; urgency?: string; location?: string };
  /**
   * How each step is projected: `activity` (an ordinary activity, the design before issue 14: two
   * workflow tasks and an activity task per event) or `local` (a local activity in the step's own
   * workflow task, as gridflow does now). Default `activity`.
   */
  projection?: 'activity' | 'local';
  /** Whether each step upserts the state search attribute, as gridflow did before issue 14. Default true. */
  indexState?: boolean;
  /** Whether the next deadline's timer is kept while steps leave it where it was, as gridflow does now (workflows/kept-timer.ts). Default false. */
  keepTimer?: boolean;
}

interface Deadline {
  at: number;
  kind: 'reminder' | 'escalation' | 'timer';
  id: string;
  to?: string;
  title?: string;
}

const ACCEPTS: Record<State, string[]> = {
  reported: ['ACCEPT', 'REJECT'],
  triage: ['ESCALATE', 'HANDLE_IN_GRID', 'NEEDS_DELIBERATION'],
  deliberation: ['DECIDE', 'ESCALATE'],
  handling: ['ESCALATE', 'EXTEND', 'PROGRESS', 'RESOLVE'],
  verification: ['VERIFY_FAIL', 'VERIFY_OK'],
  'awaiting-evaluation': ['EVALUATE'],
  closed: [],
  rejected: [],
};

const TASKS: Partial<Record<State, { role: string; title: string }>> = {
  reported: { role: 'grid-worker', title: '受理问题' },
  triage: { role: 'grid-worker', title: '研判：格内办理或提交集中议事' },
  deliberation: { role: 'grid-leader', title: '召集集中议事，确定方案、责任方和期限' },
  handling: { role: 'grid-worker', title: '及时办事：按方案办理' },
  verification: { role: 'grid-worker', title: '现场核查办理结果' },
};

function reject(code: string, message: string, accepts: string[]): never {
  const details: EventRejectedDetails = { code, accepts, errors: [] };
  throw ApplicationFailure.create({ message, type: EVENT_REJECTED, nonRetryable: true, details: [details] });
}

export async function handIssue(args: HandIssueInput): Promise<ProcessResult> {
  const { workflowId } = workflowInfo();
  const iso = (ms: number) => formatLocal(ms, ZONE);
  const urgent = args.input.urgency === 'urgent';
  const startedAt = Date.now();
  const context: Record<string, unknown> = {
    input: args.input,
    grid: args.grid,
    day: iso(startedAt).slice(0, 10),
    businessKey: args.businessKey,
    urgency: args.input.urgency ?? 'normal',
    level: 'grid',
    owner: null,
    plan: null,
    handlingDue: null,
    progress: [] as unknown[],
    extensions: [] as unknown[],
    escalations: [] as unknown[],
    reworkCount: 0,
    reopenCount: 0,
    satisfaction: null,
    rejection: null,
    result: null,
  };
  let state: State = 'reported';
  let status: ProcessStatus = 'running';
  let seq = 0;
  let due: number | undefined;
  let deadlines: Deadline[] = [];
  let version = 0;

  const { run: serial, settled } = serialQueue();

  /** Deadlines of the state just entered, as issue.definition.yaml declares them. */
  function enter(s: State, at: number): void {
    deadlines = [];
    due = undefined;
    const decided = typeof context.handlingDue === 'string' ? Date.parse(`${context.handlingDue}T18:00:00+08:00`) : undefined;
    switch (s) {
      case 'reported':
        due = at + (urgent ? 2 * HOUR : DAY);
        deadlines.push({ at: due, kind: 'escalation', id: 'accept-overdue', to: 'grid-leader', title: 'issue-accept-overdue' });
        break;
      case 'triage':
        due = at + (urgent ? 2 * HOUR : DAY);
        break;
      case 'deliberation':
        due = at + 3 * DAY;
        deadlines.push({ at: due - DAY, kind: 'reminder', id: 'convene-soon', to: 'grid-leader', title: 'issue-deliberation-soon' });
        deadlines.push({ at: due, kind: 'escalation', id: 'deliberation-overdue', to: 'community-manager', title: 'issue-deliberation-overdue' });
        break;
      case 'handling':
        due = decided ?? at + (urgent ? DAY : 7 * DAY);
        deadlines.push({ at: due - DAY, kind: 'reminder', id: 'due-soon', to: 'grid-worker', title: 'issue-due-soon' });
        deadlines.push({ at: due, kind: 'reminder', id: 'due-now', to: 'grid-worker', title: 'issue-due-now' });
        deadlines.push({ at: due, kind: 'escalation', id: 'overdue', to: 'grid-leader', title: 'issue-overdue' });
        deadlines.push({ at: due + DAY, kind: 'escalation', id: 'overdue-secretary', to: 'party-secretary', title: 'issue-overdue-secretary' });
        deadlines.push({ at: due + 3 * DAY, kind: 'timer', id: 'overdue-3wd' });
        break;
      case 'verification':
        due = at + 2 * DAY;
        deadlines.push({ at: due, kind: 'escalation', id: 'verify-overdue', to: 'grid-leader', title: 'issue-verify-overdue' });
        break;
      default:
        break;
    }
    deadlines.sort((a, b) => a.at - b.at);
  }

  const tasks = (): TaskSnapshot[] => {
    const t = TASKS[state];
    if (!t || status !== 'running') return [];
    const owner = context.owner as { name?: string } | null;
    return [
      {
        id: `${workflowId}#${state}`,
        state,
        role: t.role,
        ...(state === 'handling' && owner?.name ? { assignee: owner.name } : {}),
        title: t.title,
        dueAt: due === undefined ? undefined : iso(due),
        overdue: due !== undefined && Date.now() > due,
        events: ACCEPTS[state],
      },
    ];
  };

  async function step(event: string, from: State, at: number, data: Record<string, unknown> | undefined, actor: string | undefined, late: boolean): Promise<void> {
    seq++;
    version++;
    await (args.projection === 'local' ? local.recordSteps : recordSteps)({
      workflowId,
      definition: { key: 'hand-issue', version: 1 },
      businessKey: args.businessKey,
      title: TITLE,
      grid: args.grid,
      startedAt: iso(startedAt),
      snapshot: { status, state, value: state, context: { ...context }, tasks: tasks(), seq },
      steps: [{ seq, at: iso(at), event, from, to: state, actor, data, late }],
    });
    if (args.indexState !== false) upsertSearchAttributes([{ key: searchAttributeKeys.state, value: state }]);
  }

  function validate(req: EventRequest): void {
    if (status !== 'running') reject('ended', `process has ended in state "${state}"; it accepts no events`, []);
    if (!ACCEPTS[state].includes(req.type)) reject('not-accepted', `event "${req.type}" is not accepted in state "${state}"`, ACCEPTS[state]);
    const d = req.data ?? {};
    const need = (field: string) => {
      if (d[field] === undefined || d[field] === '') {
        const details: EventRejectedDetails = { code: 'invalid-data', accepts: ACCEPTS[state], errors: [{ path: `data.${field}`, message: 'is required' }] };
        throw ApplicationFailure.create({ message: `event "${req.type}" has invalid data: data.${field} is required`, type: EVENT_REJECTED, nonRetryable: true, details: [details] });
      }
    };
    if (req.type === 'REJECT') need('reason');
    if (req.type === 'DECIDE') ['plan', 'owner'].forEach(need);
    if (req.type === 'PROGRESS') need('note');
    if (req.type === 'EXTEND') ['due', 'reason'].forEach(need);
    if (req.type === 'RESOLVE') need('result');
    if (req.type === 'VERIFY_FAIL') need('note');
    if (req.type === 'EVALUATE') {
      need('satisfaction');
      const s = d.satisfaction;
      if (!Number.isInteger(s) || (s as number) < 1 || (s as number) > 5) reject('invalid-data', 'satisfaction must be an integer from 1 to 5', ACCEPTS[state]);
    }
    if (req.type === 'ESCALATE' && context.level === 'street') reject('guard', 'already at the street level', ACCEPTS[state]);
  }

  async function apply(req: EventRequest): Promise<EventResult> {
    validate(req);
    const at = Date.now();
    const d = (req.data ?? {}) as Record<string, any>;
    const from = state;
    const late = due !== undefined && at > due;
    let to: State = state;
    switch (req.type) {
      case 'ACCEPT':
        to = 'triage';
        break;
      case 'REJECT':
        context.rejection = { reason: d.reason, note: d.note, referTo: d.referTo };
        to = 'rejected';
        break;
      case 'HANDLE_IN_GRID':
        context.owner = { kind: 'grid', name: args.grid };
        to = 'handling';
        break;
      case 'NEEDS_DELIBERATION':
        to = 'deliberation';
        break;
      case 'DECIDE':
        Object.assign(context, { plan: d.plan, owner: d.owner, handlingDue: d.due, participants: d.participants });
        to = 'handling';
        break;
      case 'PROGRESS':
        context.progress = [...(context.progress as unknown[]), { note: d.note, at }];
        break;
      case 'EXTEND':
        context.handlingDue = d.due;
        context.extensions = [...(context.extensions as unknown[]), { due: d.due, reason: d.reason, at }];
        break;
      case 'RESOLVE':
        context.result = d.result;
        to = 'verification';
        break;
      case 'VERIFY_OK':
        to = 'awaiting-evaluation';
        break;
      case 'VERIFY_FAIL':
        context.reworkCount = (context.reworkCount as number) + 1;
        context.handlingDue = null;
        to = 'handling';
        break;
      case 'EVALUATE':
        context.satisfaction = d.satisfaction;
        context.comment = d.comment;
        if ((d.satisfaction as number) >= 3) to = 'closed';
        else {
          context.reopenCount = (context.reopenCount as number) + 1;
          context.handlingDue = null;
          to = 'handling';
        }
        break;
      case 'ESCALATE': {
        const level = context.level === 'grid' ? 'community' : 'street';
        context.level = level;
        context.escalations = [...(context.escalations as unknown[]), { to: level, at, reason: d.reason }];
        break;
      }
    }
    const moved = to !== from || req.type === 'VERIFY_FAIL' || req.type === 'EXTEND';
    state = to;
    if (to === 'closed' || to === 'rejected') {
      status = 'completed';
      deadlines = [];
    } else if (moved) enter(to, at);
    await step(req.type, from, at, req.data, req.actor, late);
    if (req.type === 'ESCALATE' || (req.type === 'EVALUATE' && to === 'handling')) {
      await notify({ workflowId, key: `${seq}:0`, grid: args.grid, at: iso(at), notice: { kind: 'info', to: ['party-secretary', 'community-manager'], title: `${req.type} ${args.businessKey}`, body: '', urgent: false } });
    }
    return { state, status, seq };
  }

  async function fire(now: number): Promise<void> {
    while (deadlines.length && deadlines[0].at <= now) {
      const d = deadlines.shift() as Deadline;
      if (d.kind === 'timer') {
        // OVERDUE_ESCALATE: only while the issue is still at the grid level.
        if (context.level !== 'grid') continue;
        context.level = 'community';
        context.escalations = [...(context.escalations as unknown[]), { to: 'community', at: d.at, reason: 'overdue 3 working days' }];
        await step('OVERDUE_ESCALATE', state, d.at, undefined, 'timer', false);
        continue;
      }
      await step(`@${d.kind}:${d.id}`, state, d.at, undefined, 'timer', false);
      await notify({ workflowId, key: `${seq}:0`, grid: args.grid, at: iso(d.at), notice: { kind: d.kind, to: [d.to as never], title: String(d.title), body: args.businessKey, urgent } });
    }
  }

  enter('reported', startedAt);
  const started = serial(() => step('@start', '' as State, startedAt, args.input, 'bench', false));

  setHandler(sendEventUpdate, (req) => serial(() => apply(req)), { validator: validate });
  // What the API reads of a process whose first step is not in the read model yet (its grid).
  setHandler(snapshotQuery, (): ProcessSnapshot => ({
    definition: { key: 'hand-issue', version: 1 },
    businessKey: args.businessKey,
    grid: args.grid,
    status,
    state,
    value: state,
    context,
    accepts: ACCEPTS[state],
    tasks: tasks(),
    deadlines: deadlines.map((d) => ({ kind: d.kind, id: d.id, state, at: iso(d.at) })),
    seq,
    startedAt: iso(startedAt),
    runs: 1,
  }));

  await started;
  const deadlineTimer = keptTimer();
  while (status === 'running') {
    const seen = version;
    const next = deadlines[0];
    if (args.keepTimer) {
      if (await deadlineTimer.wait(next?.at, () => version !== seen)) await serial(() => fire(Date.now()));
    } else if (next) {
      const changed = await condition(() => version !== seen, Math.max(next.at - Date.now(), 1));
      if (!changed) await serial(() => fire(Date.now()));
    } else {
      await condition(() => version !== seen);
    }
  }
  await settled();
  await condition(allHandlersFinished);
  return { state, status, context };
}
