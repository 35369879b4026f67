import fs from 'node:fs';
import path from 'node:path';

// jest.config.js is CommonJS, as jest reads it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const config = require('../../jest.config.js') as { projects: { displayName: string; testMatch: string[]; globalSetup?: string }[] };
const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };

const testDir = path.join(__dirname, '..');
const testFiles = (dir: string): string[] =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? testFiles(path.join(dir, e.name)) : /\.test\.tsx?$/.test(e.name) ? [path.relative(testDir, path.join(dir, e.name))] : []));

test('every test file belongs to exactly one jest project, so npm test runs each once', () => {
  const folders = config.projects.map((p) => p.displayName);
  const owners = testFiles(testDir).map((f) => ({ f, in: folders.filter((name) => f.startsWith(`${name}${path.sep}`) && f.endsWith('.ts')) }));
  expect(owners.filter((o) => o.in.length !== 1).map((o) => `${o.f}: ${o.in.length ? o.in.join(', ') : 'no project'}`)).toEqual([]);
});

test('each project has its npm script, and only the unit project runs without the servers', () => {
  for (const p of config.projects) expect(pkg.scripts[`test:${p.displayName}`]).toBe(`jest --selectProjects ${p.displayName}`);
  expect(config.projects.filter((p) => !p.globalSetup).map((p) => p.displayName)).toEqual(['unit']);
});
