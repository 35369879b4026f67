/**
 * The field page's connection to the server, for a phone that loses the network in garages and
 * stairwells: GETs that fall back to their last answer, and an outbox that keeps actions (with their
 * photos) in IndexedDB and sends them in order when it can (the rules are in ./queue.ts).
 */
import { ApiError, api, get, savedToken, type Me } from '../api';
import { uploadEvidence } from '../evidence';
import { drain, isPending, toForget, type DrainReport, type OutboxPorts, type QueuedAction, type QueuedPhoto } from './queue';
import * as db from './store';

export type Action = QueuedAction<Blob>;

/** Whose cache and queue: the member, or the token's name for a member-less token. */
export const ownerOf = (me: Me) => me.member ?? `token:${me.name}`;

// ---- what the page knows of the network ------------------------------------------------------

type Listener = () => void;
const connectionListeners = new Set<Listener>();
let reachable = true;

/** Offline when the browser says so or when the last request got no answer at all. */
export const isOnline = () => navigator.onLine && reachable;

function setReachable(v: boolean) {
  if (reachable === v) return;
  reachable = v;
  connectionListeners.forEach((f) => f());
}

/** Asks the server's liveness route whether it can be reached again (after requests got no answer). */
export async function probe(): Promise<boolean> {
  const ok = await fetch('/healthz', { cache: 'no-store' }).then((r) => r.ok, () => false);
  setReachable(ok);
  return ok;
}

export function onConnectionChange(f: Listener): () => void {
  connectionListeners.add(f);
  const changed = () => {
    // The browser's word is news: trust it until a request says otherwise.
    reachable = true;
    f();
  };
  window.addEventListener('online', changed);
  window.addEventListener('offline', changed);
  return () => {
    connectionListeners.delete(f);
    window.removeEventListener('online', changed);
    window.removeEventListener('offline', changed);
  };
}

/** No answer came: the request never reached the server (an HTTP error has a status). */
const noAnswer = (e: unknown) => !(e instanceof ApiError);

// ---- GETs with a last known answer -------------------------------------------------------------

export interface Answer<T> {
  data: T;
  /** When the server gave this answer (ms). */
  at: number;
  /** false: the network is gone and this is the last answer kept on the phone. */
  fresh: boolean;
}

/** The server's answer to `path`, kept for `owner`; without the network, the last one kept. */
export async function cachedGet<T>(owner: string, path: string): Promise<Answer<T>> {
  const key = `${owner} ${path}`;
  try {
    const data = await get<T>(path);
    setReachable(true);
    const at = Date.now();
    await db.keepAnswer({ key, at, body: data }).catch(() => undefined);
    return { data, at, fresh: true };
  } catch (e) {
    if (!noAnswer(e)) throw e;
    setReachable(false);
    const kept = await db.readAnswer(key).catch(() => undefined);
    if (!kept) throw e;
    return { data: kept.body as T, at: kept.at, fresh: false };
  }
}

// ---- who was signed in, for a page opened without the network ----------------------------------

const ME_KEY = 'gridflow.field.me';

/**
 * A short digest (FNV-1a) of the credential held now: the token, or the console session's CSRF
 * cookie (random per session; the session cookie itself is out of the page's reach). Who is
 * remembered belongs to that credential only, so a second person signed in on the phone never opens
 * as the first.
 */
function credential(): string {
  const session = /(?:^|;\s*)(?:__Host-)?gridflow_csrf=([^;]+)/.exec(document.cookie)?.[1];
  let h = 0x811c9dc5;
  for (const c of savedToken() ?? session ?? '') h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h.toString(16);
}

/** Keeps the signed-in person, so the field page still opens when /api/me cannot be asked. */
export function rememberMe(me: Me): void {
  try {
    localStorage.setItem(ME_KEY, JSON.stringify({ me, credential: credential() }));
  } catch {
    // storage full or refused: the page then needs the network to open
  }
}

/**
 * The person last signed in with the credential held now, when `error` is a request that got no
 * answer (offline); undefined for a real refusal (401: the token is no longer good), for another
 * credential (someone else signed in on this phone), or when nobody was remembered.
 */
export function offlineMe(error: unknown): Me | undefined {
  if (!noAnswer(error)) return undefined;
  try {
    const kept = JSON.parse(localStorage.getItem(ME_KEY) ?? 'null') as { me: Me; credential: string } | null;
    return kept && kept.credential === credential() ? kept.me : undefined;
  } catch {
    return undefined;
  }
}

// ---- the outbox -----------------------------------------------------------------------------------

export interface NewAction {
  workflowId: string;
  title: string;
  type: string;
  data?: Record<string, unknown>;
  photos: QueuedPhoto<Blob>[];
}

type OutboxListener = (actions: Action[], settled?: Action) => void;

/** Tells other tabs of the same person that the queue changed. */
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('gridflow-outbox') : undefined;

class Outbox {
  private owner?: string;
  private actions: Action[] = [];
  private listeners = new Set<OutboxListener>();
  private chain: Promise<DrainReport | undefined> = Promise.resolve(undefined);
  private timer?: ReturnType<typeof setTimeout>;
  private lastSeq = 0;
  private started = false;
  /** 401: waiting for the person to sign in again. */
  needsSignIn = false;

  /** The outbox of `owner`; sends what waits from an earlier visit. */
  async open(owner: string): Promise<void> {
    if (!this.started) {
      this.started = true;
      window.addEventListener('online', () => void this.kick(true));
      channel?.addEventListener('message', () => void this.refresh());
    }
    if (this.owner !== owner) {
      this.owner = owner;
      this.actions = [];
    }
    await this.refresh();
    void this.kick(true);
  }

  private async refresh(): Promise<void> {
    if (!this.owner) return;
    const owner = this.owner;
    const all = await db.actionsOf(owner);
    const forget = toForget(all, Date.now());
    for (const id of forget) await db.deleteAction(id);
    if (owner !== this.owner) return;
    this.actions = all.filter((a) => !forget.includes(a.id));
    this.lastSeq = Math.max(this.lastSeq, ...this.actions.map((a) => a.seq));
    this.emit();
  }

  list(): Action[] {
    return [...this.actions].sort((a, b) => a.seq - b.seq);
  }

  subscribe(f: OutboxListener): () => void {
    this.listeners.add(f);
    f(this.list());
    return () => this.listeners.delete(f);
  }

  private emit(settled?: Action) {
    const list = this.list();
    this.listeners.forEach((f) => f(list, settled));
  }

  private update(a: Action, local = true) {
    const i = this.actions.findIndex((x) => x.id === a.id);
    if (i >= 0) this.actions[i] = a;
    else this.actions.push(a);
    if (local) channel?.postMessage(a.id);
    this.emit(a.status === 'sent' || a.status === 'refused' ? a : undefined);
  }

  /** Keeps an action on the phone (durably, before anything is sent) and answers it. */
  async add(n: NewAction): Promise<Action> {
    if (!this.owner) throw new Error('the outbox is not open: sign in first');
    // Time-based so that order holds across tabs and reloads; +1 when two actions share a millisecond.
    this.lastSeq = Math.max(Date.now(), this.lastSeq + 1);
    const a: Action = {
      id: crypto.randomUUID(),
      seq: this.lastSeq,
      owner: this.owner,
      workflowId: n.workflowId,
      title: n.title,
      type: n.type,
      ...(n.data ? { data: n.data } : {}),
      photos: n.photos,
      createdAt: Date.now(),
      status: 'waiting',
      attempts: 0,
      nextAttemptAt: 0,
    };
    await db.putAction(a);
    this.update(a);
    // Photos held for a day underground must not be evicted when the phone runs short of space.
    if (n.photos.length) void navigator.storage?.persist?.().catch(() => false);
    return a;
  }

  /**
   * Takes an action: keeps it, and when the network is there sends it (and whatever waits before it)
   * at once. Answers the process's new state when it went through; throws the server's refusal so a
   * form can show it next to its fields (the action is then forgotten: the form still holds it);
   * answers `queued` when it waits for the network.
   */
  async take(n: NewAction): Promise<{ sent?: { state: string; status: string }; queued?: Action }> {
    const a = await this.add(n);
    if (!navigator.onLine) return { queued: a };
    await this.kick(true);
    const now = this.actions.find((x) => x.id === a.id) ?? a;
    if (now.status === 'sent' && now.result) return { sent: now.result };
    if (now.status === 'refused' && now.refusal) {
      await this.dismiss(a.id);
      throw new ApiError(now.refusal.status, '', now.refusal.message, now.refusal.errors ?? []);
    }
    return { queued: now };
  }

  async dismiss(id: string): Promise<void> {
    await db.deleteAction(id);
    this.actions = this.actions.filter((a) => a.id !== id);
    channel?.postMessage(id);
    this.emit();
  }

  /** Sends what waits, in order; one pass at a time in this tab, and one tab at a time (Web Locks). */
  kick(force = false): Promise<DrainReport | undefined> {
    this.chain = this.chain.then(() => this.pass(force)).catch(() => undefined);
    return this.chain;
  }

  private async pass(force: boolean): Promise<DrainReport | undefined> {
    const owner = this.owner;
    if (!owner || !this.actions.some(isPending)) return undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const ports: OutboxPorts<Blob> = {
      list: () => db.actionsOf(owner),
      save: (a) => db.putAction(a),
      changed: (a) => this.update(a),
      now: () => Date.now(),
      upload: (a, photo) => {
        if (!photo.blob) return Promise.reject(new ApiError(410, 'Gone', `${photo.name}: the photo is no longer on this phone`));
        return uploadEvidence(a.workflowId, new File([photo.blob], photo.name, { type: photo.type }));
      },
      send: (a, evidence) => {
        const data = evidence ? { ...(a.data ?? {}), evidence } : a.data;
        return api<{ state: string; status: string }>('POST', `/api/processes/${encodeURIComponent(a.workflowId)}/events`, { type: a.type, ...(data ? { data } : {}), requestId: a.id });
      },
    };
    const run = () => drain(ports, { force });
    const locks = (navigator as Navigator & { locks?: { request<T>(name: string, f: () => Promise<T>): Promise<T> } }).locks;
    const report = locks ? await locks.request(`gridflow-outbox ${owner}`, run) : await run();
    this.needsSignIn = report.stopped?.reason === 'signin';
    // Only silence means offline; a server that answers "later" is reachable.
    if (report.stopped?.reason === 'retry' && report.stopped.status === undefined) setReachable(false);
    else if (report.sent.length || report.refused.length || report.stopped?.status !== undefined) setReachable(true);
    if (report.stopped?.retryAt !== undefined) {
      this.timer = setTimeout(() => void this.kick(false), Math.max(500, report.stopped.retryAt - Date.now()));
    }
    this.emit();
    return report;
  }
}

export const outbox = new Outbox();

/** How much this origin keeps on the phone, when the browser says. */
export async function storageUse(): Promise<{ used: number; quota: number } | undefined> {
  const e = await navigator.storage?.estimate?.().catch(() => undefined);
  return e && e.usage !== undefined && e.quota !== undefined ? { used: e.usage, quota: e.quota } : undefined;
}
