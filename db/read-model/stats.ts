import { connection, count, numberOrNull, placeholders, type ReadModelDb } from './db';

/** Which grids the figures cover: every one, or these. */
/** The grids a caller sees ('all': every grid and the community level), within `communities` when given. */
export type StatsScope = string[] | 'all' | { grids: string[] | 'all'; communities?: string[] };

/**
 * Which grouping set a figure row sums: one grid and definition, every definition of a grid
 * (`allDefinitions`), every grid of a definition (`allGrids`), or everything (both).
 */
export interface Grouping {
  grid: string | null;
  definition: string | null;
  allGrids: boolean;
  allDefinitions: boolean;
}

/** Instances started in the period, as they are now. */
export interface InstanceFigures extends Grouping {
  started: number;
  completed: number;
  running: number;
  /** Running with a due before now. */
  overdue: number;
  cancelled: number;
  failed: number;
}

/** Instances started in the period that are in `state` now, per definition, overall and per grid. */
export interface InStateFigures {
  grid: string | null;
  definition: string;
  state: string;
  allGrids: boolean;
  instances: number;
}

/** The period's steps. */
export interface StepFigures extends Grouping {
  /** Steps that moved an instance to another state (events and timers, not the start or `@` bookkeeping). */
  moves: number;
  /** Of those, the ones the engine marked late. */
  late: number;
  /** EVALUATE steps with a numeric `satisfaction`, and its mean (null without any). */
  evaluations: number;
  satisfaction: number | null;
}

/** Stays in a state that ended in the period, per definition, overall and per grid. */
export interface StayFigures {
  grid: string | null;
  definition: string;
  state: string;
  allGrids: boolean;
  visits: number;
  /** Mean length of the stays in seconds. */
  meanSeconds: number;
}

/** A grid of the registry with its daily patrols started in the period and their household visits. */
export interface PatrolCoverage {
  grid: string;
  households: number;
  patrols: number;
  householdsVisited: number;
}

export interface OverviewFacts {
  instances: InstanceFigures[];
  inState: InStateFigures[];
  steps: StepFigures[];
  stays: StayFigures[];
  coverage: PatrolCoverage[];
}

const grouping = (r: { grid: string | null; definition_key: string | null; all_grids: number; all_definitions: number }): Grouping => ({
  grid: r.grid,
  definition: r.definition_key,
  allGrids: Number(r.all_grids) === 1,
  allDefinitions: Number(r.all_definitions) === 1,
});

/**
 * The facts behind the statistics overview of the period `[from, to)` (ISO instants) within
 * `scope`; what each figure means is said where it is declared.
 */
export async function overviewFacts(db: ReadModelDb, period: { from: string; to: string }, scope: StatsScope): Promise<OverviewFacts> {
  const range = [period.from, period.to];
  const { grids: inScope, communities } = Array.isArray(scope) || scope === 'all' ? { grids: scope, communities: undefined } : scope;
  const inGrids = inScope === 'all' ? { sql: '', params: [] as unknown[] } : { sql: inScope.length ? `and p.grid in (${placeholders(inScope)})` : 'and false', params: inScope };
  const inCommunities = communities === undefined ? { sql: '', params: [] as unknown[] } : { sql: communities.length ? `and p.community_id in (${placeholders(communities)})` : 'and false', params: communities };
  const scoped = { sql: `${inGrids.sql} ${inCommunities.sql}`, params: [...inGrids.params, ...inCommunities.params] };
  const gridWhere = [
    ...(inScope === 'all' ? [] : [inScope.length ? `g.id in (${placeholders(inScope)})` : 'false']),
    ...(communities === undefined ? [] : [communities.length ? `g.community_id in (${placeholders(communities)})` : 'false']),
  ];
  const sets = 'grouping sets ((p.grid, p.definition_key), (p.grid), (p.definition_key), ())';
  const flags = 'grouping(p.grid) as all_grids, grouping(p.definition_key) as all_definitions';
  type GroupRow = { grid: string | null; definition_key: string | null; all_grids: number; all_definitions: number };
  const conn = connection(db);
  const [instances, inState, steps, stays, grids] = await Promise.all([
    conn.execute<(GroupRow & Record<'started' | 'completed' | 'running' | 'overdue' | 'cancelled' | 'failed', string>)[]>(
      `select p.grid, p.definition_key, ${flags},
              count(*) as started,
              count(*) filter (where p.status = 'completed') as completed,
              count(*) filter (where p.status = 'running') as running,
              count(*) filter (where p.status = 'running' and p.due_at < now()) as overdue,
              count(*) filter (where p.status = 'cancelled') as cancelled,
              count(*) filter (where p.status = 'failed') as failed
         from process_instance p
        where p.started_at >= ? and p.started_at < ? ${scoped.sql}
        group by ${sets}`,
      [...range, ...scoped.params],
    ),
    conn.execute<{ grid: string | null; definition_key: string; state: string; all_grids: number; n: string }[]>(
      `select p.grid, p.definition_key, p.state, grouping(p.grid) as all_grids, count(*) as n
         from process_instance p
        where p.started_at >= ? and p.started_at < ? ${scoped.sql}
        group by grouping sets ((p.definition_key, p.state), (p.grid, p.definition_key, p.state))`,
      [...range, ...scoped.params],
    ),
    conn.execute<(GroupRow & { moves: string; late: string; evaluations: string; satisfaction: string | null })[]>(
      `select p.grid, p.definition_key, ${flags},
              count(*) filter (where t.from_state <> t.to_state and t.from_state <> '' and t.event not like '@%') as moves,
              count(*) filter (where t.from_state <> t.to_state and t.from_state <> '' and t.event not like '@%' and t.late) as late,
              count(*) filter (where t.event = 'EVALUATE' and jsonb_typeof(t.data->'satisfaction') = 'number') as evaluations,
              avg((t.data->>'satisfaction')::numeric) filter (where t.event = 'EVALUATE' and jsonb_typeof(t.data->'satisfaction') = 'number') as satisfaction
         from transition_record t
         join process_instance p on p.workflow_id = t.workflow_id
        where t.at >= ? and t.at < ? ${scoped.sql}
        group by ${sets}`,
      [...range, ...scoped.params],
    ),
    // Only instances with a step in the period can have a stay that ended in it.
    conn.execute<{ grid: string | null; definition_key: string; state: string; all_grids: number; visits: string; mean_seconds: string }[]>(
      `with active as (
         select distinct workflow_id from transition_record where at >= ? and at < ?
       ), moves as (
         select t.workflow_id, t.to_state as state, t.at as entered,
                lead(t.at) over (partition by t.workflow_id order by t.seq) as left_at
           from transition_record t
           join active a on a.workflow_id = t.workflow_id
          where t.from_state <> t.to_state
       )
       select p.grid, p.definition_key, m.state, grouping(p.grid) as all_grids,
              count(*) as visits, avg(extract(epoch from m.left_at - m.entered)) as mean_seconds
         from moves m
         join process_instance p on p.workflow_id = m.workflow_id
        where m.left_at >= ? and m.left_at < ? ${scoped.sql}
        group by grouping sets ((p.definition_key, m.state), (p.grid, p.definition_key, m.state))`,
      [...range, ...range, ...scoped.params],
    ),
    conn.execute<{ id: string; households: number; patrols: string; visited: string }[]>(
      `select g.id, g.households, count(p.workflow_id) as patrols,
              coalesce(sum(case when jsonb_typeof(p.context->'householdsVisited') = 'number' then (p.context->>'householdsVisited')::numeric end), 0) as visited
         from grid g
         left join process_instance p on p.grid = g.id and p.definition_key = 'daily-patrol' and p.started_at >= ? and p.started_at < ?
        ${gridWhere.length ? `where ${gridWhere.join(' and ')}` : ''}
        group by g.id, g.households
        order by g.id`,
      [...range, ...(inScope === 'all' ? [] : inScope), ...(communities ?? [])],
    ),
  ]);
  return {
    instances: instances.map((r) => ({
      ...grouping(r),
      started: count(r.started),
      completed: count(r.completed),
      running: count(r.running),
      overdue: count(r.overdue),
      cancelled: count(r.cancelled),
      failed: count(r.failed),
    })),
    inState: inState.map((r) => ({ grid: r.grid, definition: r.definition_key, state: r.state, allGrids: Number(r.all_grids) === 1, instances: count(r.n) })),
    steps: steps.map((r) => ({ ...grouping(r), moves: count(r.moves), late: count(r.late), evaluations: count(r.evaluations), satisfaction: numberOrNull(r.satisfaction) })),
    stays: stays.map((r) => ({ grid: r.grid, definition: r.definition_key, state: r.state, allGrids: Number(r.all_grids) === 1, visits: count(r.visits), meanSeconds: count(r.mean_seconds) })),
    coverage: grids.map((g) => ({ grid: g.id, households: Number(g.households), patrols: count(g.patrols), householdsVisited: count(g.visited) })),
  };
}
