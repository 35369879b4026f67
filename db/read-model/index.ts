/**
 * The read model: every query and row mapping on the tables the workflows project into and the
 * API reads (process_instance, transition_record, process_record, process_link, task_claim).
 * Services and activities call these functions with typed inputs and get typed rows back; SQL on
 * these tables anywhere else fails test/unit/read-model-owner.test.ts.
 */
export * from './db';
export * from './filters';
export * from './instances';
export * from './projection';
export * from './history';
export * from './links';
export * from './tasks';
export * from './records';
export * from './stats';
export * from './evaluations';
export * from './rounds';
export * from './communities';
