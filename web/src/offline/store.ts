/**
 * The field page's IndexedDB database: the queued actions with their photos (as Blobs), and the
 * last answers of the GETs the page needs to work without the network. One small promise wrapper,
 * no library.
 */
import type { QueuedAction } from './queue';

const DB_NAME = 'gridflow-field';
const VERSION = 1;

export interface CachedAnswer {
  /** `<owner> <path>`: one person's answers are never shown to another signed in on the same phone. */
  key: string;
  at: number;
  body: unknown;
}

let opened: Promise<IDBDatabase> | undefined;

function open(): Promise<IDBDatabase> {
  opened ??= new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains('actions')) db.createObjectStore('actions', { keyPath: 'id' }).createIndex('owner', 'owner');
      if (!db.objectStoreNames.contains('cache')) db.createObjectStore('cache', { keyPath: 'key' });
    };
    req.onsuccess = () => {
      // Another tab's newer page wants to upgrade: step aside rather than block it.
      req.result.onversionchange = () => {
        req.result.close();
        opened = undefined;
      };
      resolve(req.result);
    };
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error('the field page database is held open by an older tab; close it and reload'));
  });
  opened.catch(() => (opened = undefined));
  return opened;
}

function run<T>(store: 'actions' | 'cache', mode: IDBTransactionMode, body: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  return open().then(
    (db) =>
      new Promise<T>((resolve, reject) => {
        const tx = db.transaction(store, mode);
        const req = body(tx.objectStore(store));
        // Resolve when the transaction is durable, not when the request succeeds.
        tx.oncomplete = () => resolve(req.result);
        tx.onerror = () => reject(tx.error ?? req.error);
        tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
      }),
  );
}

export const actionsOf = (owner: string) => run<QueuedAction<Blob>[]>('actions', 'readonly', (s) => s.index('owner').getAll(owner) as IDBRequest<QueuedAction<Blob>[]>);
export const putAction = (a: QueuedAction<Blob>) => run('actions', 'readwrite', (s) => s.put(a)).then(() => undefined);
export const deleteAction = (id: string) => run('actions', 'readwrite', (s) => s.delete(id)).then(() => undefined);

export const readAnswer = (key: string) => run<CachedAnswer | undefined>('cache', 'readonly', (s) => s.get(key) as IDBRequest<CachedAnswer | undefined>);
export const keepAnswer = (a: CachedAnswer) => run('cache', 'readwrite', (s) => s.put(a)).then(() => undefined);
