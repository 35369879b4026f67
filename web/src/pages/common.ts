import { get } from '../api';

export interface GridInfo {
  id: string;
  name: string;
  households: number;
}
export interface DefinitionInfo {
  key: string;
  title: string;
  latestVersion: number;
  updatedAt: string;
}

const cache = new Map<string, Promise<unknown>>();

/** A GET answered once a page load and shared; a failure is forgotten so the next call retries. */
export function once<T>(path: string, pick: (body: any) => T, fresh = false): Promise<T> {
  if (fresh) cache.delete(path);
  let p = cache.get(path) as Promise<T> | undefined;
  if (!p) {
    p = get(path).then(pick);
    cache.set(path, p);
    p.catch(() => cache.delete(path));
  }
  return p;
}

/** The grids the caller may see. */
export const loadGrids = () => once<GridInfo[]>('/api/grids', (r) => r.items);

export const loadDefinitions = (fresh = false) => once<DefinitionInfo[]>('/api/definitions', (r) => r.items, fresh);

/** This month in the community's zone, as YYYY-MM. */
export function thisMonth(now = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit' }).format(now).slice(0, 7);
}

export const pct = (r: number | null | undefined) => (r === null || r === undefined ? '—' : `${Math.round(r * 1000) / 10}%`);
