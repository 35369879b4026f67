import fs from 'node:fs';
import path from 'node:path';
import { validateDocument, validateText, type ValidationIssue, type ValidationResult } from '../../engine/validate';

/** A small valid definition: one compound waiting state with a task, a reminder, an escalation and a timer. */
const BASE = {
  key: 'inspection',
  title: 'Site inspection',
  timezone: 'Asia/Shanghai',
  businessKey: '{grid}/{day}',
  grid: 'required',
  input: { type: 'object', required: ['site'], properties: { site: { type: 'string', minLength: 1 } } },
  events: {
    REPORT: { type: 'object', properties: { category: { type: 'string' } } },
    SUBMIT: { type: 'object', properties: { summary: { type: 'string' } } },
  },
  templates: {
    nudge: { title: '{{context.grid}}: inspection not submitted', body: 'Please submit by {{context.day}} 18:00.' },
    overdue: { title: '{{context.grid}}: inspection overdue', body: 'Checked {{context.checks}} times.' },
  },
  machine: {
    id: 'inspection',
    initial: 'open',
    context: { checks: 0 },
    states: {
      open: {
        initial: 'waiting',
        meta: { timers: [{ id: 'day-end', when: { at: '23:59' }, send: 'DAY_END' }] },
        on: { DAY_END: 'missed' },
        states: {
          waiting: {
            meta: {
              task: { role: 'grid-worker', title: 'Inspect the site', due: { at: '18:00' } },
              reminders: [{ id: 'nudge', when: { before: '1h' }, to: 'grid-worker', template: 'nudge' }],
              escalations: [{ id: 'late', when: { after: '10h' }, to: ['grid-leader'], template: 'overdue' }],
            },
            on: {
              REPORT: {
                actions: [
                  { type: 'assign', params: { increment: { checks: 1 } } },
                  { type: 'notify', params: { to: 'grid-leader', template: 'overdue' } },
                ],
              },
              SUBMIT: {
                target: '#inspection.done',
                guard: { type: 'compare', params: { left: { $ref: 'context.checks' }, op: 'gte', right: 1 } },
                actions: [{ type: 'record', params: { kind: 'submitted', data: { summary: { $ref: 'event.data.summary' } } } }],
              },
            },
          },
        },
      },
      done: { type: 'final' },
      missed: { type: 'final' },
    },
  },
};

const WAITING = 'machine.states.open.states.waiting';

/** Validates a deep copy of the base document after `change` has edited it. */
function validateWith(change: (doc: any) => void): ValidationResult {
  const doc = structuredClone(BASE) as any;
  change(doc);
  return validateDocument(doc);
}
const waiting = (doc: any) => doc.machine.states.open.states.waiting;

function expectIssue(list: ValidationIssue[], path: string, ...fragments: string[]) {
  for (const fragment of fragments) expect(list).toContainEqual({ path, message: expect.stringContaining(fragment) });
}
function expectError(result: ValidationResult, path: string, ...fragments: string[]) {
  expect(result.valid).toBe(false);
  expect(result.document).toBeUndefined();
  expectIssue(result.errors, path, ...fragments);
}
function expectWarning(result: ValidationResult, path: string, ...fragments: string[]) {
  expectIssue(result.warnings, path, ...fragments);
}

describe('valid documents', () => {
  test('the daily patrol definition is valid with no errors and no warnings', () => {
    const text = fs.readFileSync(path.join(__dirname, '..', '..', 'definitions', 'daily-patrol.definition.yaml'), 'utf8');
    const result = validateText(text);
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.valid).toBe(true);
    expect(result.document?.key).toBe('daily-patrol');
  });

  test('the base document is valid and comes back parsed', () => {
    const result = validateDocument(structuredClone(BASE));
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.document?.machine.id).toBe('inspection');
  });

  test('JSON text is accepted as well as YAML', () => {
    const result = validateText(JSON.stringify(BASE, null, 2));
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
  });

  test('a machine-level transition may target a top-level state with a leading dot', () => {
    const result = validateWith((d) => (d.machine.on = { CANCEL: '.missed' }));
    expect(result.errors).toEqual([]);
  });

  test('every region of a parallel state counts as reachable when a target enters one of them', () => {
    const result = validateWith((d) => {
      waiting(d).on.SUBMIT.target = '#inspection.review.photos.checking';
      d.machine.states.review = {
        type: 'parallel',
        on: { APPROVE: 'done' },
        states: {
          photos: { initial: 'checking', states: { checking: { meta: { task: { role: 'grid-leader', title: 'Check photos' } } } } },
          notes: { initial: 'reading', states: { reading: { meta: { task: { role: 'grid-leader', title: 'Read notes' } } } } },
        },
      };
    });
    expect(result.errors).toEqual([]);
  });

  test('data refs of an event without a declared data schema are not questioned', () => {
    const result = validateWith((d) => {
      waiting(d).on.NOTE = { actions: [{ type: 'record', params: { kind: 'note', data: { text: { $ref: 'event.data.anything' } } } }] };
    });
    expect(result.errors).toEqual([]);
  });
});

describe('text and shape', () => {
  test('a YAML syntax error is reported at $ with its line and column', () => {
    const result = validateText('key: inspection\ntitle: [unclosed\nmachine: {}\n');
    expect(result.valid).toBe(false);
    expect(result.errors[0].path).toBe('$');
    expect(result.errors[0].message).toMatch(/^YAML syntax error at line \d+, column \d+: /);
  });

  test('a duplicate key in YAML is a syntax error with its position', () => {
    expectError(validateText('key: inspection\ntitle: a\ntitle: b\n'), '$', 'YAML syntax error at line 3, column 1: Map keys must be unique');
  });

  test('a document that is not an object is reported at $', () => {
    expectError(validateText('just a sentence'), '$', 'expected a definition document', 'got "just a sentence"');
  });

  test('a missing machine is reported as required', () => {
    expectError(validateWith((d) => delete d.machine), 'machine', '"machine" is required: give an object');
  });

  test('an unknown top-level key is named with the keys that are allowed', () => {
    expectError(validateWith((d) => (d.titel = 'x')), '$', 'unknown key "titel" (did you mean "title"?)', 'allowed: key, title, description');
  });

  test('a key that is not kebab-case is refused with the naming rule', () => {
    expectError(validateWith((d) => (d.key = 'Site_Inspection')), 'key', '"Site_Inspection" is not valid: use kebab-case');
  });

  test('an invalid grid rule lists the options', () => {
    expectError(validateWith((d) => (d.grid = 'always')), 'grid', '"always" is not allowed; use one of: required, optional, none');
  });

  test('a state name that is not kebab-case is reported at the state', () => {
    expectError(validateWith((d) => (d.machine.states.Archive = { type: 'final' })), 'machine.states.Archive', 'state name "Archive" is not valid: use kebab-case');
  });

  test('an XState after in a state points to meta.timers', () => {
    expectError(validateWith((d) => (waiting(d).after = { 60000: '#inspection.missed' })), WAITING, 'unknown key "after": use meta.timers instead of after');
  });

  test('an XState invoke in a state points to startProcess', () => {
    expectError(validateWith((d) => (waiting(d).invoke = { src: 'child' })), WAITING, 'invoke is not supported; use startProcess');
  });

  test('a misspelt key in a transition is named with the transition keys', () => {
    expectError(
      validateWith((d) => (waiting(d).on.SUBMIT.targt = 'x')),
      `${WAITING}.on.SUBMIT`,
      'unknown key "targt" (did you mean "target"?)',
      'allowed: target, guard, actions, reenter, description',
    );
  });

  test('a recipient of the wrong type says which types would do', () => {
    expectError(validateWith((d) => (waiting(d).meta.reminders[0].to = 3)), `${WAITING}.meta.reminders.0.to`, 'expected a string or a list, got number 3');
  });

  test('an event name that is not SCREAMING_CASE is reported at the event', () => {
    expectError(validateWith((d) => (d.events.submit = { type: 'object' })), 'events.submit', 'event name "submit" is not valid: use SCREAMING_CASE');
  });
});

describe('targets and structure', () => {
  test('an unknown target state is reported at the transition\'s path', () => {
    expectError(validateWith((d) => (d.machine.states.open.on.DAY_END = 'mised')), 'machine.states.open.on.DAY_END', 'unknown target "mised"', 'did you mean "missed"?', 'siblings: open, done, missed');
  });

  test('an unknown target in a transition object is reported at its target', () => {
    expectError(validateWith((d) => (waiting(d).on.REPORT.target = 'reviewing')), `${WAITING}.on.REPORT.target`, 'unknown target "reviewing"', 'siblings: waiting');
  });

  test('a target naming an unknown id lists the ids that exist', () => {
    expectError(validateWith((d) => (waiting(d).on.SUBMIT.target = '#inspect.done')), `${WAITING}.on.SUBMIT.target`, 'no state has id "inspect"', 'ids: inspection');
  });

  test('an id path to a missing child names the children that exist', () => {
    expectError(validateWith((d) => (waiting(d).on.SUBMIT.target = '#inspection.finished')), `${WAITING}.on.SUBMIT.target`, 'machine "inspection" has no child "finished"; children: open, done, missed');
  });

  test('a child target on a state without that child is refused', () => {
    expectError(validateWith((d) => (d.machine.states.open.on.DAY_END = '.missed')), 'machine.states.open.on.DAY_END', 'state "open" has no child "missed"');
  });

  test('a machine-level transition without a leading dot is refused with the fix', () => {
    expectError(validateWith((d) => (d.machine.on = { CANCEL: 'missed' })), 'machine.on.CANCEL', 'use ".missed" or "#inspection.missed"');
  });

  test('a machine initial that is not a state lists the top-level states', () => {
    expectError(validateWith((d) => (d.machine.initial = 'opn')), 'machine.initial', 'initial "opn" is not a child of machine "inspection" (did you mean "open"?); children: open, done, missed');
  });

  test('a compound state without initial is told which children it could start in', () => {
    expectError(validateWith((d) => delete d.machine.states.open.initial), 'machine.states.open', 'state "open" has child states but no initial; add initial: one of waiting');
  });

  test('a final state may not have transitions', () => {
    expectError(validateWith((d) => (d.machine.states.done.on = { REOPEN: 'open' })), 'machine.states.done.on', 'is type: final and may not have on');
  });

  test('a final state may not have a task', () => {
    expectError(validateWith((d) => (d.machine.states.done.meta = { task: { role: 'grid-worker', title: 'x' } })), 'machine.states.done.meta.task', 'type: final and may not have meta.task');
  });

  test('a final state may not have child states', () => {
    expectError(validateWith((d) => (d.machine.states.done.states = { a: { type: 'final' } })), 'machine.states.done.states', 'type: final and may not have states');
  });

  test('a state no transition leads to is unreachable', () => {
    expectError(validateWith((d) => (d.machine.states.archived = { type: 'final' })), 'machine.states.archived', 'state "archived" is unreachable');
  });

  test('a waiting state with no transition and no timer has no way out', () => {
    const result = validateWith((d) => {
      d.machine.states.review = { meta: { task: { role: 'grid-leader', title: 'Review' } } };
      waiting(d).on.SUBMIT.target = '#inspection.review';
    });
    expectError(result, 'machine.states.review', 'state "review" has no way out: add a transition, a timer, or make it type: final');
  });

  test('a state whose transitions only run actions still has no way out', () => {
    const result = validateWith((d) => {
      d.machine.states.review = { meta: { task: { role: 'grid-leader', title: 'Review' } }, on: { NOTE: { actions: [{ type: 'assign', params: { increment: { checks: 1 } } }] } } };
      waiting(d).on.SUBMIT.target = '#inspection.review';
    });
    expectError(result, 'machine.states.review', 'has no way out', 'its transitions have no target');
  });

  test('several targets outside a parallel state can not be active together', () => {
    expectError(validateWith((d) => (d.machine.states.open.on.DAY_END = { target: ['missed', 'done'] })), 'machine.states.open.on.DAY_END.target', 'targets "missed" and "done" can not be active together');
  });

  test('two states with the same id are refused', () => {
    const result = validateWith((d) => {
      d.machine.states.done.id = 'end';
      d.machine.states.missed.id = 'end';
    });
    expectError(result, 'machine.states.missed.id', 'id "end" is already the id of state "done"');
  });

  test('a wildcard transition is refused', () => {
    expectError(validateWith((d) => (waiting(d).on['*'] = { actions: [] })), `${WAITING}.on.*`, 'wildcard transitions are not supported');
  });

  test('an always transition without target or guard would spin for ever', () => {
    expectError(
      validateWith((d) => (waiting(d).always = { actions: [{ type: 'assign', params: { increment: { checks: 1 } } }] })),
      `${WAITING}.always`,
      'always transition without a target or guard runs again after every step',
    );
  });

  test('unguarded always transitions that lead back to their start loop for ever', () => {
    const result = validateWith((d) => {
      d.machine.states.open.states.waiting.on.REPORT.target = 'checking';
      d.machine.states.open.states.checking = { always: 'rechecking' };
      d.machine.states.open.states.rechecking = { always: 'checking' };
    });
    expectError(result, 'machine.states.open.states.checking.always', 'always transitions loop for ever: open.checking -> open.rechecking -> open.checking');
  });
});

describe('library references', () => {
  test('an unknown action lists the known actions', () => {
    expectError(
      validateWith((d) => (waiting(d).on.REPORT.actions[1].type = 'notfy')),
      `${WAITING}.on.REPORT.actions.1.type`,
      'unknown action "notfy"; known: assign, notify, startProcess, sendEvent, fetch, record',
    );
  });

  test('a bare action name that needs params is refused with the params it needs', () => {
    expectError(validateWith((d) => (d.machine.states.open.entry = 'notify')), 'machine.states.open.entry', 'action "notify" needs params (to, template, urgent)');
  });

  test('a bare unknown action name is refused', () => {
    expectError(validateWith((d) => (d.machine.states.open.exit = ['log'])), 'machine.states.open.exit.0', 'unknown action "log"; known: assign');
  });

  test('a notify to an unknown role lists the roles', () => {
    expectError(validateWith((d) => (waiting(d).on.REPORT.actions[1].params.to = 'grid-leeder')), `${WAITING}.on.REPORT.actions.1.params.to`, '"grid-leeder" is not allowed; use one of: grid-worker, grid-leader');
  });

  test('a notify with an undefined template names the templates that exist', () => {
    expectError(
      validateWith((d) => (waiting(d).on.REPORT.actions[1].params.template = 'overdu')),
      `${WAITING}.on.REPORT.actions.1.params.template`,
      'template "overdu" is not defined (did you mean "overdue"?); defined: nudge, overdue',
    );
  });

  test('an assign that changes nothing says what it needs', () => {
    expectError(validateWith((d) => (waiting(d).on.REPORT.actions[0].params = {})), `${WAITING}.on.REPORT.actions.0.params`, 'give at least one of set, increment, append');
  });

  test('an unknown key in action params names the allowed params', () => {
    expectError(validateWith((d) => (waiting(d).on.SUBMIT.actions[0].params.kinds = 'x')), `${WAITING}.on.SUBMIT.actions.0.params`, 'unknown key "kinds"', 'allowed: kind, data');
  });

  test('assigning a context key the engine sets is refused', () => {
    expectError(validateWith((d) => (waiting(d).on.REPORT.actions[0].params = { set: { grid: 'x' } })), `${WAITING}.on.REPORT.actions.0.params.set.grid`, 'context key "grid" is set by the engine');
  });

  test('a guard with an unknown operator lists the operators', () => {
    expectError(validateWith((d) => (waiting(d).on.SUBMIT.guard.params.op = '>=')), `${WAITING}.on.SUBMIT.guard.params.op`, '">=" is not allowed; use one of: eq, ne, gt, gte, lt, lte, in');
  });

  test('an unknown guard lists the known guards', () => {
    expectError(validateWith((d) => (waiting(d).on.SUBMIT.guard.type = 'comapre')), `${WAITING}.on.SUBMIT.guard.type`, 'unknown guard "comapre"; known: compare, exists, missing (did you mean "compare"?)');
  });

  test('a bare guard name that needs params is refused', () => {
    expectError(validateWith((d) => (waiting(d).on.SUBMIT.guard = 'exists')), `${WAITING}.on.SUBMIT.guard`, 'guard "exists" needs params (ref)');
  });

  test('a $ref outside event, context and instance is refused', () => {
    expectError(
      validateWith((d) => (waiting(d).on.SUBMIT.guard.params.left = { $ref: 'ctx.checks' })),
      `${WAITING}.on.SUBMIT.guard.params.left.$ref`,
      'reference "ctx.checks" must be a dotted path starting with event., context., instance. or item.',
    );
  });

  test('an exists guard ref outside event, context and instance is refused', () => {
    expectError(validateWith((d) => (waiting(d).on.SUBMIT.guard = { type: 'exists', params: { ref: 'checks' } })), `${WAITING}.on.SUBMIT.guard.params.ref`, 'must be a dotted path starting with event.');
  });

  test('a $ref to event data the event does not declare lists the declared fields', () => {
    expectError(
      validateWith((d) => (waiting(d).on.SUBMIT.actions[0].params.data.summary = { $ref: 'event.data.sumary' })),
      `${WAITING}.on.SUBMIT.actions.0.params.data.summary.$ref`,
      'event SUBMIT has no data field "sumary" (did you mean "summary"?); declared: summary',
    );
  });

  test('a $ref to an event field outside data points to event.data', () => {
    expectError(
      validateWith((d) => (waiting(d).on.SUBMIT.actions[0].params.data.summary = { $ref: 'event.summary' })),
      `${WAITING}.on.SUBMIT.actions.0.params.data.summary.$ref`,
      'reads nothing: an event has type, data, at, actor, due; did you mean "event.data.summary"?',
    );
  });
});

describe('times, notices and timers', () => {
  test('a time with both after and before is refused', () => {
    expectError(validateWith((d) => (waiting(d).meta.reminders[0].when.after = '2h')), `${WAITING}.meta.reminders.0.when`, 'give exactly one of after, at, before (got after and before)');
  });

  test('a time with none of after, at, before is refused', () => {
    expectError(validateWith((d) => (waiting(d).meta.escalations[0].when = {})), `${WAITING}.meta.escalations.0.when`, 'give exactly one of after, at, before (got none)');
  });

  test('a duration that does not parse says which forms do', () => {
    expectError(validateWith((d) => (waiting(d).meta.escalations[0].when.after = '10 hours')), `${WAITING}.meta.escalations.0.when.after`, '"10 hours" is not a duration; use e.g. "90s"');
  });

  test('a due time that is not HH:mm is refused', () => {
    expectError(validateWith((d) => (waiting(d).meta.task.due.at = '6pm')), `${WAITING}.meta.task.due.at`, '"6pm" is not a wall-clock time; use 24-hour "HH:mm"');
  });

  test('"on" without "at" is refused', () => {
    expectError(validateWith((d) => (waiting(d).meta.escalations[0].when.on = 'entry-day')), `${WAITING}.meta.escalations.0.when.on`, '"on" only applies to "at"');
  });

  test('"before" needs a task due time in the same state', () => {
    expectError(validateWith((d) => delete waiting(d).meta.task.due), `${WAITING}.meta.reminders.0.when.before`, 'has no meta.task.due; add one or use after or at');
  });

  test('a task due "before" itself is refused', () => {
    expectError(validateWith((d) => (waiting(d).meta.task.due = { before: '1h' })), `${WAITING}.meta.task.due.before`, 'can not be "before" itself');
  });

  test('a reminder with an undefined template names the templates', () => {
    expectError(validateWith((d) => (waiting(d).meta.reminders[0].template = 'nag')), `${WAITING}.meta.reminders.0.template`, 'template "nag" is not defined; defined: nudge, overdue');
  });

  test('an escalation to an unknown role lists the roles', () => {
    expectError(validateWith((d) => (waiting(d).meta.escalations[0].to = ['grid-leeder'])), `${WAITING}.meta.escalations.0.to.0`, 'unknown role "grid-leeder" (did you mean "grid-leader"?); known: grid-worker');
  });

  test('a task for an unknown role lists the roles', () => {
    expectError(validateWith((d) => (waiting(d).meta.task.role = 'worker')), `${WAITING}.meta.task.role`, 'unknown role "worker"', 'known: grid-worker, grid-leader');
  });

  test('two reminders of a state with the same id are refused', () => {
    expectError(validateWith((d) => waiting(d).meta.reminders.push({ ...waiting(d).meta.reminders[0] })), `${WAITING}.meta.reminders.1.id`, 'reminder id "nudge" is used twice');
  });

  test('a timer whose event its state does not handle names the events it does', () => {
    expectError(
      validateWith((d) => (d.machine.states.open.meta.timers[0].send = 'DAY_OVER')),
      'machine.states.open.meta.timers.0.send',
      'timer "day-end" sends DAY_OVER, but state "open" does not handle it',
      'it handles: DAY_END',
    );
  });

  test('a timer whose event only a child handles is a warning', () => {
    const result = validateWith((d) => {
      d.machine.states.open.meta.timers.push({ id: 'nag', when: { after: '2h' }, send: 'NAG' });
      waiting(d).on.NAG = { actions: [{ type: 'notify', params: { to: 'grid-worker', template: 'nudge' } }] };
    });
    expect(result.errors).toEqual([]);
    expectWarning(result, 'machine.states.open.meta.timers.1.send', 'handled only by state "open.waiting"');
  });

  test('a timer event whose data schema requires fields would be dropped', () => {
    const result = validateWith((d) => (d.events.DAY_END = { type: 'object', required: ['reason'], properties: { reason: { type: 'string' } } }));
    expectError(result, 'events.DAY_END.required', 'sent by a timer (machine.states.open.meta.timers.0.send) without data');
  });
});

describe('document-level rules', () => {
  test('an input that is not an object is refused', () => {
    expectError(validateWith((d) => (d.input = { type: 'string' })), 'input.type', 'input must be type: object (got string)');
  });

  test('context may not define keys the engine sets', () => {
    expectError(validateWith((d) => (d.machine.context.day = 'today')), 'machine.context.day', 'context key "day" is set by the engine');
  });

  test('an unknown time zone lists the zones', () => {
    expectError(validateWith((d) => (d.timezone = 'Asia/Beijing')), 'timezone', 'unknown time zone "Asia/Beijing"; known: Asia/Shanghai, UTC');
  });

  test('an unknown business key placeholder lists the ones that work', () => {
    expectError(validateWith((d) => (d.businessKey = '{grid}/{date}')), 'businessKey', 'placeholder "{date}" is unknown; use {grid}, {day}, {week}, {month}, {year}, {seq} or {input.<field>}');
  });

  test('a business key placeholder for an undeclared input field lists the input fields', () => {
    expectError(validateWith((d) => (d.businessKey = '{input.place}')), 'businessKey', 'placeholder "{input.place}" names no input field; input fields: site');
  });

  test('a declared event no state handles is a warning', () => {
    const result = validateWith((d) => (d.events.CANCEL = { type: 'object' }));
    expect(result.valid).toBe(true);
    expectWarning(result, 'events.CANCEL', 'event CANCEL is declared but no state handles it; handled events: DAY_END, REPORT, SUBMIT');
  });

  test('a template placeholder without a scope is a warning', () => {
    const result = validateWith((d) => (d.templates.nudge.title = '{{grid}}: inspection not submitted'));
    expect(result.valid).toBe(true);
    expectWarning(result, 'templates.nudge.title', 'placeholder "{{grid}}" renders nothing', 'e.g. "{{context.grid}}"');
  });

  test('a reminder template that reads the event is a warning, since reminders have no event', () => {
    const result = validateWith((d) => (d.templates.nudge.body = 'Category: {{event.data.category}}'));
    expect(result.valid).toBe(true);
    expectWarning(result, `${WAITING}.meta.reminders.0.template`, 'template "nudge" reads event.data.category, but a reminder has no event');
  });

  test('a waiting state with neither task nor timer is a warning', () => {
    const result = validateWith((d) => {
      d.machine.states.review = { on: { APPROVE: 'done' } };
      waiting(d).on.SUBMIT.target = '#inspection.review';
    });
    expect(result.valid).toBe(true);
    expectWarning(result, 'machine.states.review', 'nothing moves state "review" by itself: add a task with due or a timer');
  });
});
