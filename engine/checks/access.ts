import type { DefinitionDocument, StateConfig } from '../document.schema';
import { ROLES } from '../library';
import type { CheckContext } from './context';
import { list, suggest } from './words';

/** The access block (who may send each event) and the evidence block (which events take files). */

/** Events the machine handles (`on` keys anywhere) and events its timers send. */
function machineEvents(doc: DefinitionDocument): { handled: Set<string>; timers: Set<string> } {
  const handled = new Set<string>();
  const timers = new Set<string>();
  const visit = (state: StateConfig) => {
    for (const e of Object.keys(state.on ?? {})) handled.add(e);
    for (const t of state.meta?.timers ?? []) timers.add(t.send);
    for (const child of Object.values(state.states ?? {})) visit(child);
  };
  visit(doc.machine as StateConfig);
  return { handled, timers };
}

export function checkAccessRules({ doc, error, warn }: CheckContext): void {
  if (doc.access === undefined) return;
  const { handled, timers } = machineEvents(doc);
  const events = [...handled].filter((e) => !timers.has(e)).sort();
  for (const [event, rule] of Object.entries(doc.access)) {
    const path = `access.${event}`;
    if (timers.has(event)) {
      error(path, `event "${event}" is sent by a timer, never by a person or a process; remove its rule`);
      continue;
    }
    if (!handled.has(event)) error(path, `no state handles event "${event}"; events: ${list(events)}`);
    const actingRoles: readonly string[] = [...ROLES, 'manager', 'resident'];
    const roleLists: [string, string[]][] = [[`${path}.roles`, rule.roles ?? []], ...Object.entries(rule.rolesBy?.values ?? {}).map(([v, r]): [string, string[]] => [`${path}.rolesBy.values.${v}`, r])];
    for (const [at, roles] of roleLists) {
      for (const [i, role] of roles.entries()) {
        if (!actingRoles.includes(role)) error(`${at}.${i}`, `unknown role "${role}"${suggest(role, actingRoles)}; known: ${actingRoles.join(', ')}`);
      }
    }
    for (const [i, earlier] of (rule.notBy ?? []).entries()) {
      if (!handled.has(earlier)) error(`${path}.notBy.${i}`, `"${earlier}" is no event of this machine, so nobody sent it; events: ${list(events)}`);
    }
    if (!rule.roles?.length && !rule.processes?.length && !rule.rolesBy && rule.assignee === false) {
      error(path, `the rule for "${event}" lets nobody send it; name roles, processes or leave assignee on`);
    }
    if (rule.beforeDue && !hasTaskDueFor(doc.machine as StateConfig, event)) {
      warn(`${path}.beforeDue`, `no state that handles "${event}" has a task with a due time, so beforeDue never refuses`);
    }
  }
}

function hasTaskDueFor(state: StateConfig, event: string, inherited = false): boolean {
  const handles = inherited || Object.prototype.hasOwnProperty.call(state.on ?? {}, event);
  if (handles && state.meta?.task?.due) return true;
  return Object.values(state.states ?? {}).some((child) => hasTaskDueFor(child, event, handles));
}

/** Evidence is for events a person sends: each listed event must be handled and not a timer's. */
export function checkEvidenceRules({ doc, error }: CheckContext): void {
  if (doc.evidence === undefined) return;
  const { handled, timers } = machineEvents(doc);
  const events = [...handled].filter((e) => !timers.has(e)).sort();
  for (const event of Object.keys(doc.evidence)) {
    const path = `evidence.${event}`;
    if (timers.has(event)) error(path, `event "${event}" is sent by a timer, which brings no files; remove it from evidence`);
    else if (!handled.has(event)) error(path, `no state handles event "${event}"; events that may take evidence: ${list(events)}`);
    if (doc.events?.[event]?.properties?.evidence !== undefined) {
      error(`events.${event}.properties.evidence`, `"evidence" of event "${event}" is described by the evidence block; remove it from the event's data schema`);
    }
  }
}
