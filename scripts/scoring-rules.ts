import fs from 'node:fs';
import { ReadmeSection } from './readme-section';
import path from 'node:path';
import { parse } from 'yaml';
import { definitionDocument, type DefinitionDocument, type StateConfig } from '../engine/document.schema';
import { evaluatedMonth, scoringRulesOf, type ScoringRules } from '../engine/scoring';

/**
 * The README's table of the monthly evaluation's rules, generated from the built-in
 * monthly-review definition (and the due times of the patrol and the weekly report it refers
 * to), so it cannot drift from what the scoring does. `npm run docs:scoring-rules` rewrites the
 * README; a unit test fails when they differ.
 */
/** The README's section for this table. */
export const section = new ReadmeSection('scoring-rules');
const root = path.join(__dirname, '..');

function builtIn(key: string): DefinitionDocument {
  return definitionDocument.parse(parse(fs.readFileSync(path.join(root, 'definitions', `${key}.definition.yaml`), 'utf8')));
}

/** The wall-clock due of a task in a built-in, e.g. "18:00", found by state name anywhere in the tree. */
function dueAt(doc: DefinitionDocument, state: string): string {
  const find = (s: StateConfig): StateConfig | undefined => {
    for (const [name, child] of Object.entries(s.states ?? {})) {
      if (name === state) return child;
      const deeper = find(child);
      if (deeper) return deeper;
    }
    return undefined;
  };
  const at = find(doc.machine as StateConfig)?.meta?.task?.due?.at;
  if (!at) throw new Error(`${doc.key}: state "${state}" has no task due at a clock time`);
  return at;
}

const num = (n: number) => (n < 0 ? `−${-n}` : String(n));

/** One table: each rule, its value in the built-in definition, and what it means. */
export function scoringTable(): string {
  const rules = scoringRulesOf(builtIn('monthly-review')) as ScoringRules;
  if (!rules) throw new Error('the built-in monthly-review states no scoring rules (rules of its monthly-scores fetch)');
  const patrol = builtIn('daily-patrol');
  const patrolDue = dueAt(patrol, 'patrolling');
  const holidays = patrol.schedule?.holidays === 'skip' ? '. No patrol is started on a statutory holiday, so none is missed then' : '';
  const weeklyDue = dueAt(builtIn('weekly-report'), 'drafting');
  const w = rules.weights;
  const c = rules.credit;
  const rows: [string, string, string][] = [
    ['period', rules.period, `the month a review scores: the review of 2026-11 (on the 25th) ranks ${evaluatedMonth('2026-11', rules.period)}${rules.period === 'previous-month' ? ', a whole month' : ', up to the day of the meeting'}`],
    ['weight: patrol completion', num(w.patrol), "the patrols of the month that have ended, each earning the patrol credit below"],
    ['weight: weekly reports on time', num(w.weekly), 'the weekly reports of the month, each earning the weekly credit below'],
    ['weight: issues handled on time', num(w.issues), 'the issues first resolved in the month, each earning the issue credit below'],
    ['weight: satisfaction', num(w.satisfaction), "mean satisfaction (1-5) / 5 of the ratings (EVALUATE) of the month's resolved issues, whenever they are given"],
    ['patrol credit: on time', num(c.patrol.onTime), `SUBMIT by ${patrolDue}, the patrol's due`],
    ['patrol credit: late', num(c.patrol.late), `SUBMIT after ${patrolDue} (the grid leader was told at ${patrolDue})`],
    ['patrol credit: submitted late', num(c.patrol.submittedLate), 'walked (at least one check-in) but not submitted: closed at 23:59 as `submitted-late` with what was recorded'],
    ['patrol credit: missed', '0', `untouched at 23:59 (no check-in): \`missed\`${holidays}. A patrol missed on a day the duty rota had nobody on duty in the grid (all resting or on leave, no stand-in) is not counted at all (\`patrolsNobodyOnDuty\`)`],
    ['weekly report credit: on time', num(c.weekly.onTime), `SUBMIT by ${weeklyDue} of the day the report starts`],
    ['weekly report credit: late', num(c.weekly.late), `SUBMIT after ${weeklyDue}, or not submitted`],
    ['issue credit: on time', num(c.issues.onTime), "the first RESOLVE before the issue's due (as decided, or by its category's time limit)"],
    ['issue credit: late', num(c.issues.late), 'the first RESOLVE after the due'],
    ...rules.deductions.map(
      (d): [string, string, string] => [`deduction: ${d.id}`, `${num(-d.points)} each${d.max !== undefined ? `, at most ${num(-d.max)} a month` : ''}`, `each ${d.event} in the grid's \`${d.definition}\` processes in the month: ${d.reason}`],
    ),
    ['no data', 'null', 'an indicator with nothing to measure has no rate; its weight is left out and the others are scaled to the full weight. A grid with nothing measured has no score and no rank'],
    ['adjustments', 'ADJUST', "a manager's points (plus or minus) with a reason, added to the score to give the total"],
  ];
  return ['| rule | value | what it means |', '| --- | --- | --- |', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

if (require.main === module) {
  section.write(scoringTable());
  process.stdout.write('README.md: scoring rules table regenerated\n');
}
