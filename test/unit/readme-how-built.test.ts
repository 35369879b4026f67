import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ReadmeSection } from '../../scripts/readme-section';

// eslint.layers.js is CommonJS because eslint.config.js loads it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { layersTable } = require('../../eslint.layers.js') as { layersTable: () => string };

const root = path.join(__dirname, '..', '..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

test('the README\'s layer table is the one lint enforces (eslint.layers.js renders it)', () => {
  expect(new ReadmeSection('layers').read(readme)).toBe(layersTable());
});

test('"How it is built" names every folder of the tree, and only folders that exist', () => {
  const start = readme.indexOf('## How it is built');
  const block = readme.slice(readme.indexOf('```', start) + 3, readme.indexOf('\n```', readme.indexOf('```', start) + 3));
  const named = block.split('\n').map((l) => /^([a-z][\w-]*(?:\/[\w-]+)*)\/\s/.exec(l)?.[1]).filter((f): f is string => Boolean(f));
  const tracked = new Set(execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).split('\n').filter((f) => f.includes('/')).map((f) => f.split('/')[0]));
  expect([...tracked].filter((f) => !f.startsWith('.') && !named.includes(f)).sort()).toEqual([]);
  expect(named.filter((f) => !fs.existsSync(path.join(root, f)))).toEqual([]);
});
