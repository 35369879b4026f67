import fs from 'node:fs';
import path from 'node:path';
import { renderTable, type EngineBenchResults } from '../../bench/lib/report';
import { ReadmeSection } from '../../scripts/readme-section';

/**
 * The README's performance table is generated: it is the table of the last full bench run
 * (bench/results/engine.json), never edited by hand. After a change of the table's wording,
 * `BENCH_RENDER=1 npm run bench` writes it again from the same results.
 */
test("the README's performance table is bench/results/engine.json rendered (BENCH_RENDER=1 npm run bench)", () => {
  const results = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'bench', 'results', 'engine.json'), 'utf8')) as EngineBenchResults;
  expect(results.quick).toBe(false);
  expect(new ReadmeSection('bench').read()).toBe(renderTable(results).trim());
});
