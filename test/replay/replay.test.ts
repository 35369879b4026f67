import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { EncryptionCodec } from '../../infra/codec';
import { DataKey } from '../../infra/crypto';

/**
 * The determinism gate: every recorded history under test/histories must replay against today's
 * workflow code. A change that would break running workflows fails here, not in production.
 * Record a new history with GRIDFLOW_RECORD_HISTORIES=1 npm test.
 */
const dir = path.join(__dirname, '..', 'histories');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

test('every built-in definition has a recorded history to replay', () => {
  const keys = fs.readdirSync(path.join(__dirname, '..', '..', 'definitions')).filter((f) => f.endsWith('.definition.yaml')).map((f) => f.replace('.definition.yaml', ''));
  for (const key of keys) expect(files.some((f) => f.startsWith(`${key}-v`))).toBe(true);
});

test('every recorded history replays against the current workflow code', async () => {
  const histories = files.map((f) => ({
    workflowId: f.replace(/\.json$/, ''),
    history: historyFromJSON(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))),
  }));
  const results: string[] = [];
  // Histories recorded by the tests are encrypted with the tests' fixed key; older ones are not.
  const codec = new EncryptionCodec(new DataKey(fs.readFileSync(path.join(dir, 'test-data-key'), 'utf8').trim()));
  for await (const r of Worker.runReplayHistories({ workflowBundle: { codePath: process.env.GRIDFLOW_WORKFLOW_BUNDLE as string }, dataConverter: { payloadCodecs: [codec] } }, histories)) {
    results.push(`${r.workflowId}: ${r.error ? `FAILED ${r.error.message}` : 'ok'}`);
  }
  expect(results).toEqual(files.map((f) => `${f.replace(/\.json$/, '')}: ok`));
});
