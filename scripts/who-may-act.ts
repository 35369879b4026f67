import fs from 'node:fs';
import { ReadmeSection } from './readme-section';
import path from 'node:path';
import { parse } from 'yaml';
import type { AccessRule } from '../engine/access';
import { compileDefinition } from '../engine/compile';
import { definitionDocument } from '../engine/document.schema';

/**
 * The README's "Who may act" table, generated from the built-in definitions' access rules, so it
 * cannot drift from what the engine enforces. `npm run docs:who-may-act` rewrites the README;
 * a unit test fails when they differ.
 */
export const BUILT_INS = ['issue', 'daily-patrol', 'weekly-report', 'monthly-review'] as const;
/** The README's section for this table. */
export const section = new ReadmeSection('who-may-act');
const root = path.join(__dirname, '..');

function who(rule: AccessRule | undefined, taskRoles: string[]): string {
  if (!rule) return `${taskRoles.join(', ')} (the task's role)`;
  const parts: string[] = [];
  if (rule.roles?.length) parts.push(rule.roles.join(', '));
  for (const [value, roles] of Object.entries(rule.rolesBy?.values ?? {})) parts.push(`at ${rule.rolesBy?.ref.replace(/^context\./, '')} ${value}: ${roles.join(', ')}`);
  if (rule.processes?.length) parts.push(`the ${rule.processes.join(', ')} process`);
  if (rule.assignee !== false) parts.push("or whoever holds the task");
  return parts.join('; ');
}

function notBy(rule: AccessRule | undefined): string {
  const out: string[] = [];
  if (rule?.notBy?.length) out.push(`whoever sent ${rule.notBy.join(' or ')}`);
  if (rule?.beforeDue) out.push('after the due time');
  return out.join('; ');
}

/** One table of the four built-ins: event, who may send it, who may not (and when not). */
export function whoMayActTable(): string {
  const rows = ['| process | event | who may send it | not |', '| --- | --- | --- | --- |'];
  for (const key of BUILT_INS) {
    const text = fs.readFileSync(path.join(root, 'definitions', `${key}.definition.yaml`), 'utf8');
    const doc = definitionDocument.parse(parse(text));
    const def = compileDefinition(doc);
    const handled = new Map<string, string[]>();
    for (const node of def.nodes.values()) {
      const task = (node.meta as { task?: { role: string } } | undefined)?.task;
      for (const e of node.ownEvents as string[]) {
        if (e.startsWith('xstate.') || e.startsWith('done.')) continue;
        handled.set(e, [...(handled.get(e) ?? []), ...(task ? [task.role] : [])]);
      }
    }
    const people = [...handled.keys()].filter((e) => !def.internalEvents.has(e));
    for (const event of people) {
      rows.push(`| ${key} | ${event} | ${who(doc.access?.[event], [...new Set(handled.get(event))])} | ${notBy(doc.access?.[event])} |`);
    }
    const engine = [...def.internalEvents].sort();
    if (engine.length) rows.push(`| ${key} | ${engine.join(', ')} | the engine only (timers, fetched data) | every person and process |`);
  }
  return rows.join('\n');
}

if (require.main === module) {
  section.write(whoMayActTable());
  process.stdout.write('README.md: "Who may act" table regenerated\n');
}
