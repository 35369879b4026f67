/**
 * The console's service worker (built to /sw.js by scripts/build-web.ts): it keeps the app's own
 * files (the shell: index.html, app.js, the style sheets, the manifest and icons) so the page opens
 * with no network, in a garage or from the home screen. It never touches the API: the page keeps its
 * last answers and its queue of actions itself (web/src/offline), with the caller's credentials.
 *
 * The cache is named after the build (BUILD, a digest of the shell's files set by the build): a new
 * build is a new worker, which fills its own cache and deletes the old one when it takes over.
 */

// The few service-worker types used here (the console's tsconfig has the DOM library, not WebWorker).
interface ExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  respondWith(r: Response | Promise<Response>): void;
}
interface WorkerScope {
  addEventListener(type: 'install' | 'activate', f: (e: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', f: (e: FetchEvent) => void): void;
  skipWaiting(): Promise<void>;
  readonly clients: { claim(): Promise<void> };
  readonly registration: { readonly scope: string };
}

declare const BUILD: string;
declare const SHELL: string[];
const sw = self as unknown as WorkerScope;
const CACHE = `gridflow-shell-${BUILD}`;
const scope = new URL(sw.registration.scope);
const INDEX = new URL('./', scope).href;

/** Routes that are the server's own and must always reach it (or fail, so the page knows it is offline). */
const SERVER_ONLY = /^\/(api\/|auth\/|r\/|metrics$|healthz$|readyz$)/;

sw.addEventListener('install', (e) => {
  e.waitUntil(
    caches
      .open(CACHE)
      // cache: 'reload' so the shell is what the server has now, not an older copy in the HTTP cache.
      .then((c) => c.addAll(SHELL.map((f) => new Request(new URL(f, scope).href, { cache: 'reload' }))))
      .then(() => sw.skipWaiting()),
  );
});

sw.addEventListener('activate', (e) => {
  e.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('gridflow-shell-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => sw.clients.claim()),
  );
});

/** The network, given up on after `ms` so a weak signal falls back to the kept copy instead of hanging. */
function network(request: Request, ms: number): Promise<Response> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('network timeout')), ms);
    fetch(request).then(
      (r) => {
        clearTimeout(timer);
        resolve(r);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

sw.addEventListener('fetch', (e) => {
  const req = e.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== scope.origin || SERVER_ONLY.test(url.pathname.slice(scope.pathname.length - 1))) return;
  if (req.mode === 'navigate') {
    // The page itself: the server's when it answers soon (a new build shows at once), else the kept one.
    e.respondWith(
      network(req, 4_000).then(
        (r) => (r.ok ? r : caches.match(INDEX).then((kept) => kept ?? r)),
        () => caches.match(INDEX).then((kept) => kept ?? Response.error()),
      ),
    );
    return;
  }
  // The shell's files come from this build's cache; anything else from the network as usual.
  e.respondWith(caches.match(req, { cacheName: CACHE, ignoreSearch: true }).then((kept) => kept ?? fetch(req)));
});
