import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../config/config';
import type { DefinitionDocument } from '../../engine/document.schema';
import { enc, eventually, harnessForFile } from '../support/harness';

/**
 * Photos and files on events: uploaded for one process, limited in size and type, stored by
 * SHA-256 on the local disk, referenced from the event (never carried through Temporal), and
 * scoped like the process: another grid's people get 404 for its files.
 */
const h = harnessForFile();

// A 1x1 PNG, with a random tail so each run stores a new file.
const png = () => Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex'), crypto.randomBytes(16)]);
const jpeg = () => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), crypto.randomBytes(32)]);

function fixIt(key: string): DefinitionDocument {
  return {
    key,
    title: 'Fix with a photo (test)',
    grid: 'required',
    events: { RESOLVE: { type: 'object', required: ['result'], properties: { result: { type: 'string', minLength: 1 } } } },
    evidence: { RESOLVE: { required: true, max: 2 } },
    machine: {
      id: key,
      initial: 'open',
      states: {
        open: { meta: { task: { role: 'grid-worker', title: '修好并拍照', due: { after: '1h' } } }, on: { RESOLVE: 'done' } },
        done: { type: 'final' },
      },
    },
  } as DefinitionDocument;
}

async function upload(member: string, workflowId: string, bytes: Buffer, type: string, name = 'photo.png') {
  const token = await h.as(member).token();
  const res = await fetch(`${h.baseUrl}/api/processes/${enc(workflowId)}/evidence?name=${enc(name)}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': type }, body: new Uint8Array(bytes) });
  return { status: res.status, body: (await res.json()) as any };
}

test('a resolution needs its photo; the file is kept on disk by its SHA-256 and only a reference travels with the event', async () => {
  const key = `fix-${Date.now().toString(36)}`;
  expect((await h.call('POST', '/api/definitions', fixIt(key))).status).toBe(201);
  const id = (await h.call('POST', '/api/processes', { definition: key, grid: 'grid-07', businessKey: `grid-07/${Date.now()}` })).body.workflowId as string;
  await eventually(async () => (await h.call('GET', `/api/processes/${enc(id)}`)).status === 200);

  const bytes = png();
  const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
  const up = await upload('m-grid-07-worker', id, bytes, 'image/png', '../../etc/车库.png');
  expect(up.status).toBe(201);
  expect(up.body).toEqual({ sha256, name: '车库.png', type: 'image/png', size: bytes.length });
  expect((await upload('m-grid-07-worker', id, bytes, 'image/png')).status).toBe(200);
  const store = loadConfig().evidence.store;
  if (store.kind === 'local') expect(fs.readFileSync(path.join(store.dir, sha256.slice(0, 2), sha256)).equals(bytes)).toBe(true);

  const without = await h.send(id, { type: 'RESOLVE', data: { result: '已修复' } }, 'm-grid-07-worker');
  expect(without.status).toBe(400);
  expect(without.body.detail).toMatch(/requires evidence/);
  const foreign = await h.send(id, { type: 'RESOLVE', data: { result: '已修复', evidence: [{ sha256: 'a'.repeat(64), name: 'x.png', type: 'image/png', size: 10 }] } }, 'm-grid-07-worker');
  expect(foreign.status).toBe(400);
  expect(foreign.body.detail).toMatch(/was not uploaded for process/);

  // The caller's name and size are replaced by what was stored.
  const done = await h.send(id, { type: 'RESOLVE', data: { result: '已修复', evidence: [{ sha256, name: 'other.png', type: 'image/png', size: 1 }] } }, 'm-grid-07-worker');
  expect(done.status).toBe(200);
  const detail = await eventually(async () => {
    const d = await h.call('GET', `/api/processes/${enc(id)}`);
    return d.body.state === 'done' && d.body.history.some((e: { event: string }) => e.event === 'RESOLVE') && d;
  });
  expect(detail.body.history.find((e: { event: string }) => e.event === 'RESOLVE').data.evidence).toEqual([{ sha256, name: '车库.png', type: 'image/png', size: bytes.length }]);

  const list = await h.as('m-grid-07-leader').call('GET', `/api/processes/${enc(id)}/evidence`);
  expect(list.body.items).toEqual([expect.objectContaining({ sha256, name: '车库.png', uploadedBy: 'm-grid-07-worker' })]);
  const token = await h.as('m-grid-07-leader').token();
  const got = await fetch(`${h.baseUrl}/api/processes/${enc(id)}/evidence/${sha256}`, { headers: { authorization: `Bearer ${token}` } });
  expect(got.status).toBe(200);
  expect(got.headers.get('content-type')).toBe('image/png');
  expect(Buffer.from(await got.arrayBuffer()).equals(bytes)).toBe(true);

  // Temporal's history holds the reference, not the bytes.
  const history = await h.services.client.workflow.getHandle(id).fetchHistory();
  expect(JSON.stringify(history).length).toBeLessThan(200_000);
});

test('files of another grid\'s process are not there (404), and wrong types and sizes are refused naming what is accepted', async () => {
  const key = `fix-scope-${Date.now().toString(36)}`;
  expect((await h.call('POST', '/api/definitions', fixIt(key))).status).toBe(201);
  const id = (await h.call('POST', '/api/processes', { definition: key, grid: 'grid-07', businessKey: `grid-07/${Date.now()}` })).body.workflowId as string;
  await eventually(async () => (await h.call('GET', `/api/processes/${enc(id)}`)).status === 200);
  const up = await upload('m-grid-07-worker', id, jpeg(), 'image/jpeg', 'a.jpg');
  expect(up.status).toBe(201);

  const otherToken = await h.as('m-grid-08-worker').token();
  const other = await fetch(`${h.baseUrl}/api/processes/${enc(id)}/evidence/${up.body.sha256}`, { headers: { authorization: `Bearer ${otherToken}` } });
  expect(other.status).toBe(404);
  expect((await h.as('m-grid-08-leader').call('GET', `/api/processes/${enc(id)}/evidence`)).status).toBe(404);
  expect((await upload('m-grid-08-worker', id, png(), 'image/png')).status).toBe(404);

  const svg = await upload('m-grid-07-worker', id, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'image/svg+xml');
  expect(svg.status).toBe(415);
  expect(svg.body.detail).toMatch(/not accepted; send one of image\/jpeg, image\/png, image\/webp, application\/pdf/);
  const lying = await upload('m-grid-07-worker', id, jpeg(), 'image/png');
  expect(lying.status).toBe(415);
  expect(lying.body.detail).toMatch(/content is image\/jpeg, not the declared "image\/png"/);
  const big = await upload('m-grid-07-worker', id, Buffer.concat([png(), Buffer.alloc(loadConfig().evidence.maxBytes)]), 'image/png');
  expect(big.status).toBe(413);
  expect(big.body.detail).toMatch(/larger than 10 MB \(GRIDFLOW_EVIDENCE_MAX_BYTES/);
  // A file of one process cannot be borrowed by another.
  const id2 = (await h.call('POST', '/api/processes', { definition: key, grid: 'grid-07', businessKey: `grid-07/b${Date.now()}` })).body.workflowId as string;
  await eventually(async () => (await h.call('GET', `/api/processes/${enc(id2)}`)).status === 200);
  const borrowed = await h.send(id2, { type: 'RESOLVE', data: { result: 'x', evidence: [up.body] } }, 'm-grid-07-worker');
  expect(borrowed.status).toBe(400);
});
