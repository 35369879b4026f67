import fs from 'node:fs';
import path from 'node:path';
import { section, scoringTable } from '../../scripts/scoring-rules';

test('the README\'s scoring table is the one the built-in monthly-review generates (npm run docs:scoring-rules)', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  expect(section.read(readme)).toBe(scoringTable());
});

test('the table explains the period, each weight, each credit, each standard deduction and "no data"', () => {
  const table = scoringTable();
  for (const row of [
    '| period | previous-month |',
    '| weight: patrol completion | 30 |',
    '| patrol credit: submitted late | 1 |',
    '| weekly report credit: on time | 1 | SUBMIT by 17:00',
    '| deduction: overdue-escalated | −2 each, at most −10 a month |',
    '| no data | null |',
  ]) {
    expect(table).toContain(row);
  }
});
