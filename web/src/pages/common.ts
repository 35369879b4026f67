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

let grids: Promise<GridInfo[]> | undefined;
let definitions: Promise<DefinitionInfo[]> | undefined;

/** The grids the caller may see, fetched once a page load. */
export function loadGrids(): Promise<GridInfo[]> {
  grids ??= get<{ items: GridInfo[] }>('/api/grids').then((r) => r.items, (e) => {
    grids = undefined;
    throw e;
  });
  return grids;
}

export function loadDefinitions(fresh = false): Promise<DefinitionInfo[]> {
  if (fresh) definitions = undefined;
  definitions ??= get<{ items: DefinitionInfo[] }>('/api/definitions').then((r) => r.items, (e) => {
    definitions = undefined;
    throw e;
  });
  return definitions;
}

/** This month in the community's zone, as YYYY-MM. */
export function thisMonth(now = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit' }).format(now).slice(0, 7);
}

export const pct = (r: number | null | undefined) => (r === null || r === undefined ? '—' : `${Math.round(r * 1000) / 10}%`);
