import { startHarness, type Harness } from '../support/harness';

// What schemathesis found against the generated document, each kept fixed here (README, "Contract").
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ worker: false });
});
afterAll(async () => {
  await h?.close();
});

test('a month before 2000 is a 400 naming the month, as JSON and as CSV (it was a 500)', async () => {
  for (const path of ['/api/evaluations/0000-01?format=csv', '/api/evaluations/0000-01']) {
    const res = await h.call('GET', path);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: 'month' })]);
  }
});

test('a NUL character anywhere in a request is a 400, never a database error', async () => {
  const events = await h.call('POST', '/api/processes/x/events', { type: 'START', onBehalfOf: 'a\u0000b' });
  expect(events.status).toBe(400);
  expect(events.body.detail).toMatch(/NUL/);
  const query = await h.call('GET', '/api/processes?q=a%00b');
  expect(query.status).toBe(400);
});

test('a day the document allows is accepted, and one it does not is refused with the field named', async () => {
  expect((await h.call('GET', '/api/processes?startedFrom=2028-02-29&updatedTo=2026-11-25T08:00:00%2B08:00')).status).toBe(200);
  expect((await h.call('GET', '/api/stats/overview?from=2026-11-01&to=2026-11-25')).status).toBe(200);
  for (const bad of ['', '2026-02-29', '2026-11-25T08:00:00%2B18:22']) {
    const res = await h.call('GET', `/api/processes-counts?startedFrom=${bad}`);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: 'startedFrom' })]);
  }
});

test('a method a path does not have is a 405 with Allow, and OPTIONS lists what the document has', async () => {
  const deleted = await h.call('DELETE', '/api/processes');
  expect(deleted.status).toBe(405);
  expect(deleted.headers.get('allow')).toBe('POST, GET, HEAD');
  const options = await h.call('OPTIONS', '/api/definitions/validate');
  expect(options.status).toBe(204);
  expect(options.headers.get('allow')).toBe('POST');
  expect((await h.call('PUT', '/healthz')).status).toBe(405);
});

test('the diff of two versions requires both, as its document says', async () => {
  const doc = (await h.call('GET', '/api/openapi.json')).body;
  const params = doc.paths['/api/definitions/{key}/diff'].get.parameters as { name: string; required: boolean }[];
  expect(params.filter((p) => p.required).map((p) => p.name)).toEqual(['key', 'from', 'to']);
  const res = await h.call('GET', '/api/definitions/daily-patrol/diff');
  expect(res.status).toBe(400);
});
