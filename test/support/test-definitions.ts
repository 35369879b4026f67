import type { DefinitionDocument, StateMeta } from '../../engine/document.schema';

/*
 * Small definitions the integration and fault tests publish, each written once: what varies from
 * test to test is a parameter, the rest is the shape the test relies on.
 */

/**
 * A patrol with short timers: START, then CHECK_IN (counted in context.checkIns) until SUBMIT
 * (`completed`), or EXPIRE (`expired`) when `within` has passed; the patrolling task is due then too.
 */
export function shortPatrol(o: { key: string; title: string; submitTitle: string; within: string; templates?: DefinitionDocument['templates']; reminders?: StateMeta['reminders'] }): DefinitionDocument {
  return {
    key: o.key,
    title: o.title,
    grid: 'required',
    ...(o.templates ? { templates: o.templates } : {}),
    machine: {
      id: o.key,
      initial: 'assigned',
      context: { checkIns: 0 },
      states: {
        assigned: { meta: { task: { role: 'grid-worker', title: 'Start', due: { after: '1h' } } }, on: { START: 'patrolling' } },
        patrolling: {
          meta: {
            task: { role: 'grid-worker', title: o.submitTitle, due: { after: o.within } },
            ...(o.reminders ? { reminders: o.reminders } : {}),
            timers: [{ id: 'expire', when: { after: o.within }, send: 'EXPIRE' }],
          },
          on: {
            CHECK_IN: { actions: [{ type: 'assign', params: { increment: { checkIns: 1 } } }] },
            SUBMIT: 'completed',
            EXPIRE: 'expired',
          },
        },
        completed: { type: 'final' },
        expired: { type: 'final' },
      },
    },
  };
}

/** One task for the grid's worker in `waiting` (due in an hour) with `reminders`; `event` ends it in `done`. */
export function workerTask(o: {
  key: string;
  title: string;
  taskTitle: string;
  event: string;
  templates: DefinitionDocument['templates'];
  reminders: StateMeta['reminders'];
  labels?: DefinitionDocument['labels'];
}): DefinitionDocument {
  return {
    key: o.key,
    title: o.title,
    grid: 'required',
    templates: o.templates,
    ...(o.labels ? { labels: o.labels } : {}),
    machine: {
      id: o.key,
      initial: 'waiting',
      states: {
        waiting: {
          meta: { task: { role: 'grid-worker', title: o.taskTitle, due: { after: '1h' } }, reminders: o.reminders },
          on: { [o.event]: 'done' },
        },
        done: { type: 'final' },
      },
    },
  };
}

/**
 * A process for the fault tests: it waits in `open` with a task for the grid's worker, counts each
 * PING in context[counter], and ends `expired` when `expireAfter` has passed.
 */
export function pingCounter(o: { key: string; title: string; counter: string; expireAfter: string }): DefinitionDocument {
  return {
    key: o.key,
    title: o.title,
    grid: 'required',
    machine: {
      id: o.key,
      initial: 'open',
      context: { [o.counter]: 0 },
      states: {
        open: {
          meta: { task: { role: 'grid-worker', title: 'Work', due: { after: '1h' } }, timers: [{ id: 'expire', when: { after: o.expireAfter }, send: 'EXPIRE' }] },
          on: { PING: { actions: [{ type: 'assign', params: { increment: { [o.counter]: 1 } } }] }, EXPIRE: 'expired' },
        },
        expired: { type: 'final' },
      },
    },
  };
}

/** The worker of the grid a process runs in, for tests whose business keys are `<name>/<grid>/…`. */
export const gridWorkerOf = (workflowId: string) => `m-${workflowId.split('/')[1]}-worker`;
