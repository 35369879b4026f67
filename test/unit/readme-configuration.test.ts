import fs from 'node:fs';
import path from 'node:path';
import { SETTINGS } from '../../config/config';

// The table's meanings are prose, so it is checked rather than generated: its variables are the ones
// config/config.ts reads, and a default written as a value is the one the schema applies.
const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
const start = readme.indexOf('### Configuration');
const section = readme.slice(start, readme.indexOf('\n### ', start + 1));
const rows = section
  .split('\n')
  .filter((l) => l.startsWith('| `'))
  .map((l) => l.split('|').map((c) => c.trim()))
  .map(([, names, fallback]) => ({ names: [...names.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]), fallback }));
const listed = rows.flatMap((r) => r.names);

test('the README lists every variable config/config.ts reads, once', () => {
  expect(start).toBeGreaterThan(0);
  expect(SETTINGS.map((s) => s.name).filter((name) => !listed.includes(name))).toEqual([]);
  expect(listed.filter((name, i) => listed.indexOf(name) !== i)).toEqual([]);
});

test('the README lists no variable that config/config.ts does not read', () => {
  expect(listed.filter((name) => !SETTINGS.some((s) => s.name === name))).toEqual([]);
});

test('a default the table writes as a value is the one the configuration applies', () => {
  const wrong = rows.flatMap((r) =>
    r.names.flatMap((name) => {
      const fallback = SETTINGS.find((s) => s.name === name)?.fallback;
      const written = /^`([^`]*)`/.exec(r.fallback)?.[1];
      if (fallback === undefined || written === undefined) return [];
      const applied = Array.isArray(fallback) ? fallback.join(',') : String(fallback);
      return applied === written ? [] : [`${name}: the table says ${written}, the configuration applies ${applied}`];
    }),
  );
  expect(wrong).toEqual([]);
  // The check compares something: most settings have a default the table writes.
  expect(rows.filter((r) => /^`/.test(r.fallback)).length).toBeGreaterThan(20);
});
