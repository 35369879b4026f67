import { harnessForFile } from '../support/harness';

const h = harnessForFile();

test('the statistics, the month\'s evaluation and CSV exports are served by the app', async () => {
  const overview = await h.call('GET', '/api/stats/overview');
  expect(overview.status).toBe(200);
  expect(overview.body).toMatchObject({ grids: expect.any(Array), definitions: expect.any(Array) });
  const month = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 7);
  const evaluation = await h.call('GET', `/api/evaluations/${month}`);
  expect(evaluation.status).toBe(200);
  expect(evaluation.body.grids).toHaveLength(12);
  expect((await h.call('GET', '/api/evaluations/2026-13')).status).toBe(400);
  const csv = await fetch(`${h.baseUrl}/api/processes?format=csv&limit=5`, { headers: { authorization: `Bearer ${h.token}` } });
  expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
  // The UTF-8 byte order mark, so spreadsheet programs read the Chinese text right.
  expect([...new Uint8Array(await csv.arrayBuffer()).slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  const counts = await h.call('GET', '/api/processes-counts?definition=daily-patrol');
  expect(counts.status).toBe(200);
});
