import fs from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { Harness } from './harness';

/** With GRIDFLOW_RECORD_HISTORIES=1, keeps a finished workflow's history for the determinism gate. */
export async function recordHistory(h: Harness, workflowId: string, name: string): Promise<void> {
  if (!process.env.GRIDFLOW_RECORD_HISTORIES) return;
  const history = await h.services.client.workflow.getHandle(workflowId).fetchHistory();
  fs.writeFileSync(path.join(__dirname, '..', 'histories', `${name}.json`), historyToJSON(history));
}
