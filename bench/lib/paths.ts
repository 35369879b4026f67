import type { Client, WorkflowHandle } from '@temporalio/client';
import type { DefinitionDocument } from '../../engine/document.schema';
import type { WorkCalendar } from '../../engine/calendar';
import type { Actor } from '../../engine/access';
import { sendEventUpdate, type EventRequest, type RunProcessInput } from '../../workflows/messages';
import type { HandIssueInput } from '../workflows/hand-issue.workflow';
import { searchAttributeKeys } from '../../workflows/messages';

export type Impl = 'interpreter' | 'hand-written';
export const IMPLS: Impl[] = ['interpreter', 'hand-written'];

/** Who sends an event: the grid's full-time worker, its leader, or a community manager. */
export type Who = 'worker' | 'leader' | 'manager';

export interface PathEvent extends EventRequest {
  who: Who;
}

/** raise -> deliberate -> handle -> verify -> evaluate: the issue's five steps as six events. */
export const ISSUE_PATH: PathEvent[] = [
  { type: 'ACCEPT', data: { note: '已受理' }, who: 'worker' },
  { type: 'NEEDS_DELIBERATION', data: {}, who: 'worker' },
  { type: 'DECIDE', data: { plan: '物业清理楼道杂物，网格员复查', owner: { kind: 'property-company', name: '盛世物业' }, participants: ['网格长', '物业经理'] }, who: 'leader' },
  { type: 'RESOLVE', data: { result: '杂物已清理' }, who: 'worker' },
  // Separation of duties: not whoever resolved it, and EVALUATE by neither of them.
  { type: 'VERIFY_OK', data: { note: '现场核查通过' }, who: 'leader' },
  { type: 'EVALUATE', data: { satisfaction: 5, comment: '满意' }, who: 'manager' },
];
/** The same issue in five events, handled in the grid without a meeting: the closed-loop load. */
export const FIVE_EVENTS: PathEvent[] = [ISSUE_PATH[0], { type: 'HANDLE_IN_GRID', data: {}, who: 'worker' }, ...ISSUE_PATH.slice(3)];
export const UNTIL_HANDLING = ISSUE_PATH.slice(0, 3);
export const PROGRESS: PathEvent = { type: 'PROGRESS', data: { note: '已联系物业，明日处理' }, who: 'worker' };

/** The seeded member who sends `who`'s events in a grid. */
export const memberOf = (who: Who, grid: string): string => (who === 'manager' ? 'm-community-manager-1' : `m-${grid}-${who}`);

/** The sender as the workflow's access rules see it (what the API derives from a member's token). */
export function actorOf(who: Who, grid: string): Actor {
  const id = memberOf(who, grid);
  if (who === 'manager') return { kind: 'person', id, role: 'community-manager', grids: 'all' };
  return { kind: 'person', id, role: who === 'leader' ? 'grid-leader' : 'grid-worker', grids: [grid] };
}

export const ISSUE_INPUT = { source: 'resident', category: '环境卫生', urgency: 'normal', location: '盛世华庭南区 3号楼', description: '居民反映楼道堆放杂物，存在消防隐患，请尽快处理。' };

export interface Starter {
  (impl: Impl, workflowId: string): Promise<WorkflowHandle>;
}

/** Starts an issue by the interpreter (the published definition, as the API does) or by hand. */
export function starter(client: Client, queues: Record<Impl, string>, issue: { key: string; version: number; document: DefinitionDocument }, calendar: WorkCalendar): Starter {
  return async (impl, workflowId) => {
    const grid = 'grid-03';
    const searchAttributes = [
      { key: searchAttributeKeys.definition, value: impl === 'interpreter' ? 'issue' : 'hand-issue' },
      { key: searchAttributeKeys.grid, value: grid },
      { key: searchAttributeKeys.state, value: '' },
    ];
    if (impl === 'interpreter') {
      const args: RunProcessInput = { definition: issue, calendar, businessKey: workflowId, grid, input: { ...ISSUE_INPUT }, startedBy: 'bench', revision: 1 };
      return client.workflow.start('runProcess', { taskQueue: queues.interpreter, workflowId, args: [args], typedSearchAttributes: searchAttributes });
    }
    // The baseline built as gridflow is now: each step projected by a local activity, no state search attribute.
    const args: HandIssueInput = { businessKey: workflowId, grid, input: { ...ISSUE_INPUT }, projection: 'local', indexState: false, keepTimer: true };
    return client.workflow.start('handIssue', { taskQueue: queues['hand-written'], workflowId, args: [args], typedSearchAttributes: searchAttributes });
  };
}

/** Sends an event by Update as its member of grid-03 (the grid `starter` uses). */
export const send = (h: WorkflowHandle, { who, ...ev }: PathEvent) => h.executeUpdate(sendEventUpdate, { args: [{ ...ev, actor: memberOf(who, 'grid-03'), by: actorOf(who, 'grid-03') }] });
