import type { Client, WorkflowHandle } from '@temporalio/client';
import type { DefinitionDocument } from '../../definitions/document.schema';
import type { WorkCalendar } from '../../definitions/calendar';
import { sendEventUpdate, type EventRequest, type RunProcessInput } from '../../workflows/messages';
import type { HandIssueInput } from '../workflows/hand-issue.workflow';
import { searchAttributeKeys } from '../../workflows/messages';

export type Impl = 'interpreter' | 'hand-written';
export const IMPLS: Impl[] = ['interpreter', 'hand-written'];

/** raise -> deliberate -> handle -> verify -> evaluate: the issue's five steps as six events. */
export const ISSUE_PATH: EventRequest[] = [
  { type: 'ACCEPT', data: { note: '已受理' } },
  { type: 'NEEDS_DELIBERATION', data: {} },
  { type: 'DECIDE', data: { plan: '物业清理楼道杂物，网格员复查', owner: { kind: 'property-company', name: '盛世物业' }, participants: ['网格长', '物业经理'] } },
  { type: 'RESOLVE', data: { result: '杂物已清理' } },
  { type: 'VERIFY_OK', data: { note: '现场核查通过' } },
  { type: 'EVALUATE', data: { satisfaction: 5, comment: '满意' } },
];
export const UNTIL_HANDLING = ISSUE_PATH.slice(0, 3);
export const PROGRESS: EventRequest = { type: 'PROGRESS', data: { note: '已联系物业，明日处理' } };

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
      const args: RunProcessInput = { definition: issue, calendar, businessKey: workflowId, grid, input: { ...ISSUE_INPUT }, startedBy: 'bench' };
      return client.workflow.start('runProcess', { taskQueue: queues.interpreter, workflowId, args: [args], typedSearchAttributes: searchAttributes });
    }
    const args: HandIssueInput = { businessKey: workflowId, grid, input: { ...ISSUE_INPUT } };
    return client.workflow.start('handIssue', { taskQueue: queues['hand-written'], workflowId, args: [args], typedSearchAttributes: searchAttributes });
  };
}

export const send = (h: WorkflowHandle, ev: EventRequest) => h.executeUpdate(sendEventUpdate, { args: [{ ...ev, actor: 'bench' }] });
