/**
 * The console's one way to the API: the signed-in token or the session cookie (signed in through an
 * identity provider), JSON in and out, problems as errors.
 */

const TOKEN_KEY = 'gridflow.token';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The session's CSRF token: the server sets it in a cookie this script may read (the session cookie
 * itself it may not) and wants it back in X-CSRF-Token on every request that changes something.
 */
function csrfToken(): string | undefined {
  const m = /(?:^|;\s*)(?:__Host-)?gridflow_csrf=([^;]+)/.exec(document.cookie);
  return m ? decodeURIComponent(m[1]) : undefined;
}

/**
 * What authenticates a request sent with fetch directly (a file upload): the token, or with a
 * session the CSRF token on a request that changes something (the cookie goes by itself).
 */
export function authHeaders(method: string): Record<string, string> {
  const token = savedToken();
  if (token) return { authorization: `Bearer ${token}` };
  const csrf = UNSAFE.has(method) ? csrfToken() : undefined;
  return csrf ? { 'X-CSRF-Token': csrf } : {};
}

/** Signed in: with a token kept here, or with a session (its CSRF cookie is there while it lasts). */
export function signedIn(): boolean {
  return Boolean(savedToken() || csrfToken());
}

let ended: string | undefined;
/** Why the session ended, as the server said at the request it refused; once. */
export function endedBecause(): string | undefined {
  const why = ended;
  ended = undefined;
  return why;
}

function forgetSession(): void {
  const secure = location.protocol === 'https:';
  document.cookie = `${secure ? '__Host-' : ''}gridflow_csrf=; Max-Age=0; Path=/${secure ? '; Secure' : ''}`;
}

/** Signs out: forgets the token, or ends the session on the server (its cookies go with it). */
export async function signOut(): Promise<void> {
  saveToken(null);
  const csrf = csrfToken();
  if (csrf) await fetch('/auth/signout', { method: 'POST', headers: { 'X-CSRF-Token': csrf } }).catch(() => undefined);
  forgetSession();
}

export function savedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY) ?? localStorage.getItem(TOKEN_KEY);
}

export function saveToken(token: string | null, remember = false): void {
  sessionStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(TOKEN_KEY);
  if (token) (remember ? localStorage : sessionStorage).setItem(TOKEN_KEY, token);
}

export interface ProblemItem {
  path: string;
  message: string;
}

/** An RFC 9457 problem the API answered with. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    readonly errors: ProblemItem[] = [],
    readonly body: Record<string, unknown> = {},
  ) {
    super(detail || title);
  }
}

export interface Me {
  name: string;
  role: 'admin' | 'ops' | 'manager' | 'grid-leader' | 'grid-worker' | 'partner';
  grids: string[] | 'all';
  member: string | null;
  /** The caller's community, and every community it reaches (a street office: its street's). */
  community?: string;
  communities?: string[] | 'all';
}

let onUnauthorized: () => void = () => undefined;
export function whenUnauthorized(f: () => void): void {
  onUnauthorized = f;
}

export async function api<T = any>(method: string, path: string, body?: unknown, token = savedToken()): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: {
      accept: 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(!token && UNSAFE.has(method) && csrfToken() ? { 'X-CSRF-Token': csrfToken() as string } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: any = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = { detail: text };
  }
  if (!res.ok) {
    if (res.status === 401) {
      if (!token && csrfToken()) {
        ended = parsed?.detail;
        forgetSession();
      }
      onUnauthorized();
    }
    throw new ApiError(res.status, parsed?.title ?? res.statusText, parsed?.detail ?? '', parsed?.errors ?? [], parsed ?? {});
  }
  return parsed as T;
}

export const get = <T = any>(path: string) => api<T>('GET', path);
export const post = <T = any>(path: string, body?: unknown) => api<T>('POST', path, body ?? {});

/** A query string of the set values. */
export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}

/**
 * Server-sent events over fetch (EventSource cannot send the Authorization header). Calls `onEvent`
 * for each event and reconnects after a drop; the returned function stops it.
 */
export function stream(path: string, onEvent: (event: string, data: any) => void, onState?: (live: boolean) => void): () => void {
  let stopped = false;
  let controller: AbortController | undefined;
  const run = async () => {
    while (!stopped) {
      controller = new AbortController();
      try {
        const token = savedToken();
        const res = await fetch(path, { headers: { accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) }, signal: controller.signal });
        if (!res.ok || !res.body) throw new Error(`stream ${res.status}`);
        onState?.(true);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let cut: number;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            let event = 'message';
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('event:')) event = line.slice(6).trim();
              else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
            }
            if (data.length) {
              try {
                onEvent(event, JSON.parse(data.join('\n')));
              } catch {
                // not JSON: ignore
              }
            }
          }
        }
      } catch {
        // dropped or refused: try again shortly
      }
      onState?.(false);
      if (!stopped) await new Promise((r) => setTimeout(r, 2_000));
    }
  };
  void run();
  return () => {
    stopped = true;
    controller?.abort();
  };
}
