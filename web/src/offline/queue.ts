/**
 * The field page's outbox, as pure logic: what is queued, in which order it goes, what an answer
 * means, when to try again. Storage, the network and the photos' bytes come in through `OutboxPorts`,
 * so the same code runs in the browser (IndexedDB, fetch) and in the unit tests (arrays, fakes).
 *
 * The rules:
 * - Actions go one at a time in the order they were taken (`seq`): a check-in taken before a submit
 *   reaches the process before it.
 * - An action's photos are uploaded to the evidence store first; the event then carries their
 *   references only. A reference once obtained is kept, so a retry does not upload again.
 * - No answer, or an answer that says "later" (408, 425, 429, 5xx), keeps the action waiting and
 *   stops the queue there, so nothing behind it overtakes it; it is tried again after a back-off, or
 *   at once when the network returns.
 * - A 401 stops the queue too: nothing can go until the person signs in again.
 * - Any other refusal (400, 403, 404, 409, 413, 415, 422) is final for that action: it is shown with
 *   the server's reason and the queue goes on with the next one (the server decides each on its own).
 * - Every attempt of an action sends the same request id, so a replay of an event that was applied
 *   but whose answer was lost is applied once.
 */

export type ActionStatus = 'waiting' | 'sending' | 'sent' | 'refused';

/** A reference to a stored evidence file, as `POST /api/processes/:id/evidence` answers it. */
export interface EvidenceRef {
  sha256: string;
  name: string;
  type: string;
  size: number;
}

/** A photo taken with an action: its bytes (`B`, a Blob in the browser) until it has a reference. */
export interface QueuedPhoto<B = unknown> {
  name: string;
  type: string;
  size: number;
  width?: number;
  height?: number;
  /** A data: URL of a thumbnail (a few KB), kept after the photo has gone. */
  thumb?: string;
  /** The resized bytes; dropped once the action is sent, to give the storage back. */
  blob?: B;
  ref?: EvidenceRef;
}

export interface Refusal {
  status: number;
  message: string;
  errors?: { path: string; message: string }[];
}

export interface QueuedAction<B = unknown> {
  /** The event's request id: every attempt sends it, so the process applies the event once. */
  id: string;
  /** The order actions were taken in (increasing). */
  seq: number;
  /** Whose action it is (member id): a queue is sent only by the person who filled it. */
  owner: string;
  workflowId: string;
  /** The task's title when the action was taken, to show in the list. */
  title: string;
  type: string;
  data?: Record<string, unknown>;
  photos: QueuedPhoto<B>[];
  createdAt: number;
  status: ActionStatus;
  attempts: number;
  /** Not before this time (ms); 0 means now. */
  nextAttemptAt: number;
  /** Why the last attempt did not get through (the action is still waiting). */
  lastError?: string;
  /** An earlier attempt of the event itself got no answer: it may have been applied already. */
  maybeApplied?: boolean;
  refusal?: Refusal;
  result?: { state: string; status: string };
  settledAt?: number;
}

/** What one attempt's answer means for the action and the queue behind it. */
export type Outcome =
  | { kind: 'sent'; result: { state: string; status: string } }
  | { kind: 'refused'; refusal: Refusal }
  | { kind: 'retry'; message: string; status?: number }
  | { kind: 'signin'; message: string };

/** Statuses that ask to come back later rather than saying no. */
const LATER = new Set([408, 425, 429, 500, 502, 503, 504]);

/**
 * What an error thrown by an attempt means. Errors with a numeric `status` are the server's answers
 * (the console's ApiError); anything else (fetch's TypeError) means no answer came.
 */
export function classify(error: unknown): Exclude<Outcome, { kind: 'sent' }> {
  const e = error as { status?: unknown; message?: unknown; errors?: unknown } | null | undefined;
  const message = typeof e?.message === 'string' && e.message ? e.message : String(error);
  const status = typeof e?.status === 'number' ? e.status : undefined;
  if (status === undefined) return { kind: 'retry', message };
  if (status === 401) return { kind: 'signin', message };
  if (LATER.has(status) || status >= 500) return { kind: 'retry', message: `HTTP ${status}: ${message}`, status };
  const errors = Array.isArray(e?.errors) ? (e?.errors as Refusal['errors']) : undefined;
  return { kind: 'refused', refusal: { status, message, ...(errors?.length ? { errors } : {}) } };
}

/** Waiting time before attempt `attempts + 1`: 2 s, 4 s, 8 s … at most a minute. */
export function backoff(attempts: number): number {
  return Math.min(60_000, 2_000 * 2 ** Math.max(0, attempts - 1));
}

export const isPending = (a: QueuedAction<unknown>) => a.status === 'waiting' || a.status === 'sending';

/** The queue in the order it is sent. */
export const inOrder = <B>(actions: QueuedAction<B>[]): QueuedAction<B>[] => [...actions].sort((a, b) => a.seq - b.seq);

/** The next action to send, or when the queue may next move; only the head of the queue may go. */
export function nextToSend<B>(actions: QueuedAction<B>[], now: number, force = false): { action?: QueuedAction<B>; retryAt?: number } {
  const head = inOrder(actions).find(isPending);
  if (!head) return {};
  if (!force && head.nextAttemptAt > now) return { retryAt: head.nextAttemptAt };
  return { action: head };
}

/** The action after an attempt with `outcome`. */
export function settle<B>(a: QueuedAction<B>, outcome: Outcome, now: number, phase: 'upload' | 'event'): QueuedAction<B> {
  const attempts = a.attempts + 1;
  switch (outcome.kind) {
    case 'sent':
      // The bytes are in the evidence store now; the reference is all the page needs to keep.
      return { ...a, status: 'sent', attempts, result: outcome.result, settledAt: now, lastError: undefined, photos: a.photos.map(({ blob: _blob, ...p }) => p) };
    case 'refused':
      // The photos stay with a refused action until the person dismisses it: they may be all that is left of the visit.
      return { ...a, status: 'refused', attempts, refusal: outcome.refusal, settledAt: now, lastError: undefined };
    case 'retry':
      return { ...a, status: 'waiting', attempts, lastError: outcome.message, nextAttemptAt: now + backoff(attempts), maybeApplied: a.maybeApplied || phase === 'event' };
    case 'signin':
      return { ...a, status: 'waiting', lastError: outcome.message, nextAttemptAt: 0 };
  }
}

/** Where the outbox keeps actions, and how it reaches the server. */
export interface OutboxPorts<B> {
  /** The person's actions, in any order. */
  list(): Promise<QueuedAction<B>[]>;
  save(action: QueuedAction<B>): Promise<void>;
  /** Uploads one photo of the action for its process; answers the stored file's reference. */
  upload(action: QueuedAction<B>, photo: QueuedPhoto<B>): Promise<EvidenceRef>;
  /** Sends the event with its request id (`action.id`) and the evidence references, if any. */
  send(action: QueuedAction<B>, evidence: EvidenceRef[] | undefined): Promise<{ state: string; status: string }>;
  now(): number;
  /** Told after every change of an action, for the page to show it. */
  changed?(action: QueuedAction<B>): void;
}

export interface DrainReport {
  sent: string[];
  refused: string[];
  /** Why the queue stopped with actions still waiting, and when it may move again. */
  stopped?: { reason: 'later' | 'signin' | 'retry'; retryAt?: number; message?: string; /** The server answered (with this status); absent: no answer came. */ status?: number };
}

/**
 * Sends the waiting actions in order until the queue is empty or an action must wait. `force`
 * ignores the back-off (the network has just come back, or the person asked).
 */
export async function drain<B>(ports: OutboxPorts<B>, opts: { force?: boolean } = {}): Promise<DrainReport> {
  const report: DrainReport = { sent: [], refused: [] };
  let force = opts.force ?? false;
  for (;;) {
    const { action, retryAt } = nextToSend(await ports.list(), ports.now(), force);
    // Forcing applies to the head the network return found, not to an action that has just failed again.
    force = false;
    if (!action) {
      if (retryAt !== undefined) report.stopped = { reason: 'later', retryAt };
      return report;
    }
    // Still "sending" from an earlier page that closed mid-flight: that attempt may have arrived.
    let current: QueuedAction<B> = { ...action, status: 'sending', ...(action.status === 'sending' ? { maybeApplied: true } : {}) };
    const put = async (next: QueuedAction<B>) => {
      current = next;
      await ports.save(next);
      ports.changed?.(next);
    };
    await put(current);
    let phase: 'upload' | 'event' = 'upload';
    let outcome: Outcome;
    try {
      for (let i = 0; i < current.photos.length; i++) {
        if (current.photos[i].ref) continue;
        const ref = await ports.upload(current, current.photos[i]);
        await put({ ...current, photos: current.photos.map((p, j) => (j === i ? { ...p, ref } : p)) });
      }
      phase = 'event';
      const evidence = current.photos.length ? current.photos.map((p) => p.ref as EvidenceRef) : undefined;
      outcome = { kind: 'sent', result: await ports.send(current, evidence) };
    } catch (e) {
      outcome = classify(e);
    }
    await put(settle(current, outcome, ports.now(), phase));
    if (outcome.kind === 'sent') report.sent.push(current.id);
    else if (outcome.kind === 'refused') report.refused.push(current.id);
    else {
      report.stopped = { reason: outcome.kind, message: outcome.message, ...(outcome.kind === 'retry' ? { retryAt: current.nextAttemptAt, ...(outcome.status ? { status: outcome.status } : {}) } : { status: 401 }) };
      return report;
    }
  }
}

/** Settled actions to forget: sent ones after a day, and beyond the newest `keep` settled ones. Refused ones stay until dismissed. */
export function toForget<B>(actions: QueuedAction<B>[], now: number, keep = 30): string[] {
  const sent = actions.filter((a) => a.status === 'sent').sort((a, b) => (b.settledAt ?? 0) - (a.settledAt ?? 0));
  return sent.filter((a, i) => i >= keep || now - (a.settledAt ?? 0) > 24 * 3600_000).map((a) => a.id);
}
