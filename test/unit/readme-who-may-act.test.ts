import fs from 'node:fs';
import path from 'node:path';
import { section, whoMayActTable } from '../../scripts/who-may-act';

test('the README\'s "Who may act" table is the one the built-in definitions generate (npm run docs:who-may-act)', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  expect(section.read(readme)).toBe(whoMayActTable());
});

test('the table names every event a person or process may send, and the engine-only ones', () => {
  const table = whoMayActTable();
  for (const row of ['| issue | DECIDE | grid-leader; at level community:', '| weekly-report | APPROVE | grid-leader; or whoever holds the task | whoever sent SUBMIT |', '| daily-patrol | DAY_END, DUE | the engine only']) {
    expect(table).toContain(row);
  }
});
