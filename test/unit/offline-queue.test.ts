import { backoff, classify, drain, nextToSend, toForget, type EvidenceRef, type OutboxPorts, type QueuedAction, type QueuedPhoto } from '../../web/src/offline/queue';
import { fitWithin } from '../../web/src/offline/fit';

/** An answer with a status, as the console's ApiError carries one. */
const answer = (status: number, message: string, errors?: { path: string; message: string }[]) => Object.assign(new Error(message), { status, ...(errors ? { errors } : {}) });
/** What fetch throws when no answer comes. */
const noAnswer = () => new TypeError('Failed to fetch');

let seq = 0;
function action(over: Partial<QueuedAction<string>> = {}): QueuedAction<string> {
  seq += 1;
  return { id: `req-${seq}`, seq, owner: 'm-grid-06-worker', workflowId: 'daily-patrol/grid-06/2026-12-02', title: '走访签到', type: 'CHECK_IN', data: { site: `site-${seq}` }, photos: [], createdAt: 0, status: 'waiting', attempts: 0, nextAttemptAt: 0, ...over };
}
const photo = (name: string): QueuedPhoto<string> => ({ name, type: 'image/jpeg', size: 100, blob: `bytes of ${name}` });
const refOf = (p: QueuedPhoto<string>): EvidenceRef => ({ sha256: p.name.padEnd(64, '0').slice(0, 64), name: p.name, type: p.type, size: p.size });

/**
 * The outbox's ports over an array, and a server that remembers request ids (as the process
 * workflow does): `script` says what each call answers, in order; by default everything succeeds.
 */
function harness(actions: QueuedAction<string>[], script: { upload?: (() => unknown)[]; send?: (() => unknown)[] } = {}) {
  const store = new Map(actions.map((a) => [a.id, a]));
  const calls: string[] = [];
  const applied: string[] = [];
  let now = 1_000_000;
  const ports: OutboxPorts<string> = {
    list: async () => [...store.values()],
    save: async (a) => void store.set(a.id, a),
    now: () => now,
    upload: async (a, p) => {
      calls.push(`upload ${a.id} ${p.name}`);
      const next = script.upload?.shift();
      if (next) next();
      return refOf(p);
    },
    send: async (a, evidence) => {
      calls.push(`send ${a.id} ${a.type}${evidence ? ` [${evidence.map((e) => e.name).join(',')}]` : ''}`);
      const next = script.send?.shift();
      // A request id the server has seen is answered from memory: applied once, however often sent.
      const apply = () => {
        if (!applied.includes(a.id)) applied.push(a.id);
      };
      if (next) {
        const r = next();
        if (r === 'applied-then-lost') {
          apply();
          throw noAnswer();
        }
      }
      apply();
      return { state: 'patrolling', status: 'running' };
    },
  };
  return { ports, store, calls, applied, get: (id: string) => store.get(id) as QueuedAction<string>, advance: (ms: number) => (now += ms) };
}

test('answers are read as sent, refused with the server\'s reason, try again later, or sign in again', () => {
  expect(classify(noAnswer())).toEqual({ kind: 'retry', message: 'Failed to fetch' });
  expect(classify(answer(503, 'Temporal is unavailable'))).toEqual({ kind: 'retry', message: 'HTTP 503: Temporal is unavailable', status: 503 });
  expect(classify(answer(429, 'slow down')).kind).toBe('retry');
  expect(classify(answer(401, 'the token is not valid'))).toEqual({ kind: 'signin', message: 'the token is not valid' });
  expect(classify(answer(409, 'process "p" has ended (completed) in state "completed"; it accepts no events'))).toEqual({
    kind: 'refused',
    refusal: { status: 409, message: 'process "p" has ended (completed) in state "completed"; it accepts no events' },
  });
  expect(classify(answer(400, 'bad data', [{ path: 'data.site', message: 'required' }]))).toEqual({ kind: 'refused', refusal: { status: 400, message: 'bad data', errors: [{ path: 'data.site', message: 'required' }] } });
  for (const status of [403, 404, 413, 415, 422]) expect(classify(answer(status, 'no')).kind).toBe('refused');
});

test('the wait between attempts doubles from 2 s and stays at a minute', () => {
  expect([1, 2, 3, 4, 5, 6, 7, 10].map(backoff)).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
});

test('actions go in the order they were taken, photos before the event that carries their references, each with its request id', async () => {
  const first = action({ photos: [photo('a.jpg'), photo('b.jpg')] });
  const second = action({ type: 'REPORT_ISSUE', photos: [photo('c.jpg')] });
  const third = action({ type: 'SUBMIT', data: undefined });
  // Stored in another order than taken: the queue sorts by seq.
  const h = harness([third, first, second]);
  const report = await drain(h.ports);
  expect(h.calls).toEqual([`upload ${first.id} a.jpg`, `upload ${first.id} b.jpg`, `send ${first.id} CHECK_IN [a.jpg,b.jpg]`, `upload ${second.id} c.jpg`, `send ${second.id} REPORT_ISSUE [c.jpg]`, `send ${third.id} SUBMIT`]);
  expect(report).toEqual({ sent: [first.id, second.id, third.id], refused: [] });
  // Sent: the bytes are given back, the references kept.
  expect(h.get(first.id)).toMatchObject({ status: 'sent', attempts: 1, result: { state: 'patrolling', status: 'running' } });
  expect(h.get(first.id).photos.map((p) => [p.blob, p.ref?.name])).toEqual([[undefined, 'a.jpg'], [undefined, 'b.jpg']]);
});

test('no answer stops the queue at that action: nothing behind it overtakes it, and it goes first when tried again', async () => {
  const a = action();
  const b = action();
  const h = harness([a, b], { send: [() => { throw noAnswer(); }] });
  const report = await drain(h.ports);
  expect(report.sent).toEqual([]);
  expect(report.stopped).toEqual({ reason: 'retry', message: 'Failed to fetch', retryAt: 1_000_000 + 2_000 });
  expect(h.get(a.id)).toMatchObject({ status: 'waiting', attempts: 1, lastError: 'Failed to fetch', nextAttemptAt: 1_002_000, maybeApplied: true });
  expect(h.get(b.id)).toMatchObject({ status: 'waiting', attempts: 0 });
  // Before the back-off is over nothing moves; b does not jump the queue.
  expect(await drain(h.ports)).toEqual({ sent: [], refused: [], stopped: { reason: 'later', retryAt: 1_002_000 } });
  expect(nextToSend([h.get(a.id), h.get(b.id)], 1_001_000)).toEqual({ retryAt: 1_002_000 });
  // The network comes back (forced) or the time passes: a, then b.
  h.advance(2_000);
  expect((await drain(h.ports)).sent).toEqual([a.id, b.id]);
  expect(h.calls.filter((c) => c.startsWith('send'))).toEqual([`send ${a.id} CHECK_IN`, `send ${a.id} CHECK_IN`, `send ${b.id} CHECK_IN`]);
});

test('returning network forces the head of the queue past its back-off, once', async () => {
  const a = action();
  const h = harness([a], { send: [() => { throw noAnswer(); }, () => { throw noAnswer(); }] });
  await drain(h.ports);
  // Forced: tried at once; failing again, it waits its (longer) back-off instead of spinning.
  const again = await drain(h.ports, { force: true });
  expect(again.stopped).toMatchObject({ reason: 'retry', retryAt: 1_000_000 + 4_000 });
  expect(h.get(a.id).attempts).toBe(2);
  expect((await drain(h.ports, { force: true })).sent).toEqual([a.id]);
});

test('a refusal is final for its action, keeps its photos and reason, and the queue goes on with the next', async () => {
  const a = action({ photos: [photo('garage.jpg')] });
  const b = action();
  const ended = 'process "daily-patrol/grid-06/2026-12-02" has ended (completed) in state "completed"; it accepts no events';
  const h = harness([a, b], { send: [() => { throw answer(409, ended); }] });
  const report = await drain(h.ports);
  expect(report).toEqual({ sent: [b.id], refused: [a.id] });
  expect(h.get(a.id)).toMatchObject({ status: 'refused', refusal: { status: 409, message: ended } });
  expect(h.get(a.id).maybeApplied).toBeUndefined();
  expect(h.get(a.id).photos[0].blob).toBe('bytes of garage.jpg');
  // Refused stays refused: the next drain does not send it again.
  await drain(h.ports, { force: true });
  expect(h.calls.filter((c) => c.startsWith(`send ${a.id}`))).toHaveLength(1);
});

test('a photo refused by the evidence store refuses its action without sending the event', async () => {
  const a = action({ photos: [photo('huge.jpg')] });
  const h = harness([a], { upload: [() => { throw answer(413, 'the evidence file is larger than 10 MB'); }] });
  expect((await drain(h.ports)).refused).toEqual([a.id]);
  expect(h.calls).toEqual([`upload ${a.id} huge.jpg`]);
  expect(h.get(a.id).refusal).toEqual({ status: 413, message: 'the evidence file is larger than 10 MB' });
});

test('a photo already uploaded is not uploaded again when the event failed, and a failed upload does not mark the event as maybe applied', async () => {
  const a = action({ photos: [photo('one.jpg'), photo('two.jpg')] });
  const h = harness([a], { upload: [() => undefined, () => { throw noAnswer(); }] });
  await drain(h.ports);
  expect(h.get(a.id).photos.map((p) => Boolean(p.ref))).toEqual([true, false]);
  expect(h.get(a.id).maybeApplied).toBe(false);
  await drain(h.ports, { force: true });
  expect(h.calls).toEqual([`upload ${a.id} one.jpg`, `upload ${a.id} two.jpg`, `upload ${a.id} two.jpg`, `send ${a.id} CHECK_IN [one.jpg,two.jpg]`]);
  expect(h.get(a.id).status).toBe('sent');
});

test('an event applied whose answer was lost is sent again with the same request id and applied once', async () => {
  const a = action();
  const b = action();
  const h = harness([a, b], { send: [() => 'applied-then-lost'] });
  await drain(h.ports);
  expect(h.get(a.id)).toMatchObject({ status: 'waiting', maybeApplied: true });
  await drain(h.ports, { force: true });
  expect(h.calls).toEqual([`send ${a.id} CHECK_IN`, `send ${a.id} CHECK_IN`, `send ${b.id} CHECK_IN`]);
  expect(h.applied).toEqual([a.id, b.id]);
});

test('a 401 stops the queue until the person signs in again, without counting against the action', async () => {
  const a = action();
  const h = harness([a], { send: [() => { throw answer(401, 'the token is not valid'); }] });
  const report = await drain(h.ports);
  expect(report.stopped).toEqual({ reason: 'signin', message: 'the token is not valid', status: 401 });
  expect(h.get(a.id)).toMatchObject({ status: 'waiting', attempts: 0, nextAttemptAt: 0 });
});

test('an action still marked as sending from a page that closed mid-flight is sent again and may already be applied', async () => {
  const a = action({ status: 'sending', attempts: 1 });
  const h = harness([a], { send: [() => { throw answer(409, 'ended'); }] });
  await drain(h.ports);
  expect(h.get(a.id)).toMatchObject({ status: 'refused', maybeApplied: true });
});

test('sent actions are forgotten after a day or beyond the newest 30; refused and waiting ones are kept', () => {
  const now = 10 * 24 * 3600_000;
  const recent = Array.from({ length: 32 }, (_, i) => action({ status: 'sent', settledAt: now - i * 1000 }));
  const old = action({ status: 'sent', settledAt: now - 25 * 3600_000 });
  const refused = action({ status: 'refused', settledAt: 0 });
  const waiting = action();
  expect(toForget([...recent, old, refused, waiting], now).sort()).toEqual([recent[30].id, recent[31].id, old.id].sort());
});

test('photos keep their shape and are made at most 1600 px on the longest side, never enlarged', () => {
  expect(fitWithin(4032, 3024)).toEqual({ width: 1600, height: 1200 });
  expect(fitWithin(3024, 4032)).toEqual({ width: 1200, height: 1600 });
  expect(fitWithin(800, 600)).toEqual({ width: 800, height: 600 });
  expect(fitWithin(10000, 10)).toEqual({ width: 1600, height: 2 });
});
