import type { MonthFact } from '../../engine/scoring';
import { connection, count, placeholders, type ReadModelDb } from './db';

/** A grid's daily patrols of the days `from` to `to` (both included), by how they ended. */
export interface PatrolWeek {
  completed: number;
  missed: number;
  /** Completed after the due. */
  late: number;
  submittedLate: number;
  checkIns: number;
  householdsVisited: number;
}

export async function patrolWeek(db: ReadModelDb, p: { grid: string; from: string; to: string }): Promise<PatrolWeek> {
  const [r] = await connection(db).execute<{ completed: string; missed: string; late: string; submitted_late: string; check_ins: string; households: string }[]>(
    `select count(*) filter (where state = 'completed') as completed,
            count(*) filter (where state = 'missed') as missed,
            count(*) filter (where (context->>'late')::boolean and state = 'completed') as late,
            count(*) filter (where state = 'submitted-late') as submitted_late,
            coalesce(sum((context->>'checkIns')::int), 0) as check_ins,
            coalesce(sum((context->>'householdsVisited')::int), 0) as households
       from process_instance
      where definition_key = 'daily-patrol' and grid = ? and context->>'day' between ? and ?`,
    [p.grid, p.from, p.to],
  );
  return { completed: count(r.completed), missed: count(r.missed), late: count(r.late), submittedLate: count(r.submitted_late), checkIns: count(r.check_ins), householdsVisited: count(r.households) };
}

/** A grid's issues in `[start, end)` (instants): raised (started), resolved, and escalated in it. */
export async function issueWeek(db: ReadModelDb, p: { grid: string; start: string; end: string }): Promise<{ raised: number; resolved: number; escalated: number }> {
  const [r] = await connection(db).execute<{ raised: string; resolved: string; escalated: string }[]>(
    `select count(*) filter (where p.started_at >= ? and p.started_at < ?) as raised,
            count(*) filter (where exists (select 1 from transition_record t where t.workflow_id = p.workflow_id and t.event = 'RESOLVE' and t.at >= ? and t.at < ?)) as resolved,
            count(*) filter (where exists (select 1 from transition_record t where t.workflow_id = p.workflow_id and t.event in ('ESCALATE', 'OVERDUE_ESCALATE') and t.at >= ? and t.at < ?)) as escalated
       from process_instance p where p.definition_key = 'issue' and p.grid = ?`,
    [p.start, p.end, p.start, p.end, p.start, p.end, p.grid],
  );
  return { raised: count(r.raised), resolved: count(r.resolved), escalated: count(r.escalated) };
}

/** The ids of a grid's running issues, oldest first, at most `limit`. */
export async function openIssueIds(db: ReadModelDb, grid: string, limit = 500): Promise<string[]> {
  const rows = await connection(db).execute<{ workflow_id: string }[]>(
    `select workflow_id from process_instance where definition_key = 'issue' and grid = ? and status = 'running' order by started_at limit ?`,
    [grid, limit],
  );
  return rows.map((r) => r.workflow_id);
}

/**
 * What a month's patrols, reports and issues did, as facts for the scoring (engine/scoring.ts):
 * patrols and weekly reports of its days (`context.day` in `month`); issues first resolved in
 * `[from, to)`; and instances with an event a deduction names in it. Each fact carries its steps
 * of the `events` asked for, all of them whenever they happened (a later rating counts for the
 * month of the work).
 */
export async function monthFacts(
  db: ReadModelDb,
  p: { month: string; from: string; to: string; events: string[]; deductions: { definition: string; event: string }[] },
): Promise<MonthFact[]> {
  const pairs = p.deductions.map(() => `(p.definition_key = ? and exists (select 1 from transition_record d where d.workflow_id = p.workflow_id and d.event = ? and d.at >= ? and d.at < ?))`);
  const rows = await connection(db).execute<{ definition_key: string; grid: string | null; day: string | null; state: string; steps: MonthFact['steps'] }[]>(
    `select p.definition_key, p.grid, p.context->>'day' as day, p.state,
            coalesce(json_agg(json_build_object('event', t.event, 'at', t.at, 'late', t.late, 'data', t.data) order by t.seq)
              filter (where t.event in (${placeholders(p.events)})), '[]') as steps
       from process_instance p
       left join transition_record t on t.workflow_id = p.workflow_id
      where (p.definition_key in ('daily-patrol', 'weekly-report') and p.context->>'day' like ?)
         or (p.definition_key = 'issue' and exists (
              select 1 from transition_record r where r.workflow_id = p.workflow_id and r.event = 'RESOLVE' and r.at >= ? and r.at < ?))
         ${pairs.map((sql) => `or ${sql}`).join('\n         ')}
      group by p.workflow_id`,
    [...p.events, `${p.month}-%`, p.from, p.to, ...p.deductions.flatMap((d) => [d.definition, d.event, p.from, p.to])],
  );
  return rows.map((r) => ({ definition: r.definition_key, grid: r.grid, day: r.day ?? '', state: r.state, steps: r.steps }));
}
