import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';

/**
 * The determinism gate: every recorded history under test/histories must replay against today's
 * workflow code. A change that would break running workflows fails here, not in production.
 * Record a new history with GRIDFLOW_RECORD_HISTORIES=1 npm test.
 */
const dir = path.join(__dirname, '..', 'histories');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

test('there are recorded histories to replay', () => {
  expect(files.length).toBeGreaterThan(0);
});

test('every recorded history replays against the current workflow code', async () => {
  const histories = files.map((f) => ({
    workflowId: f.replace(/\.json$/, ''),
    history: historyFromJSON(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))),
  }));
  const results: string[] = [];
  for await (const r of Worker.runReplayHistories({ workflowBundle: { codePath: process.env.GRIDFLOW_WORKFLOW_BUNDLE as string } }, histories)) {
    results.push(`${r.workflowId}: ${r.error ? `FAILED ${r.error.message}` : 'ok'}`);
  }
  expect(results).toEqual(files.map((f) => `${f.replace(/\.json$/, '')}: ok`));
});
