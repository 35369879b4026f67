/**
 * Names people read instead of codes: a definition's display names (its `labels` block) for
 * states, events and fields, and the registry's grid names. In the console's language, English
 * falling back to Chinese, then to the console's own word for a common event or field, then to the
 * code itself, so a definition without names still shows something.
 */
import { useEffect, useState } from 'preact/hooks';
import { get } from './api';
import { currentLang, eventName, fieldName } from './i18n';
import { loadGrids } from './pages/common';

export interface DisplayName {
  zh: string;
  en?: string;
}
export interface Labels {
  states?: Record<string, DisplayName>;
  events?: Record<string, DisplayName>;
  fields?: Record<string, DisplayName & { values?: Record<string, DisplayName> }>;
}

/** A name in the console's language, or undefined when there is none. */
export function nameIn(name: DisplayName | undefined): string | undefined {
  return currentLang() === 'en' ? name?.en ?? name?.zh : name?.zh;
}

/** A state as the API gives it: a leaf key, or keys joined by "," for parallel regions. */
export function stateName(labels: Labels | undefined, state: string | null | undefined): string {
  if (!state) return state ?? '';
  return state
    .split(',')
    .map((key) => nameIn(labels?.states?.[key]) ?? key)
    .join(currentLang() === 'zh' ? '、' : ', ');
}

export const eventLabel = (labels: Labels | undefined, type: string): string => nameIn(labels?.events?.[type]) ?? eventName(type);
export const fieldLabel = (labels: Labels | undefined, field: string): string => nameIn(labels?.fields?.[field]) ?? fieldName(field);
export const valueLabel = (labels: Labels | undefined, field: string, value: string): string => nameIn(labels?.fields?.[field]?.values?.[value]) ?? value;

// The latest version's names, once a page load per definition (a process of an older version
// shows the latest names; a name that is gone shows the code).
const byKey = new Map<string, Promise<Labels>>();

/** The display names of a definition's latest version; none when it can not be read. */
export function loadLabels(key: string): Promise<Labels> {
  let p = byKey.get(key);
  if (!p) {
    p = get<{ labels?: Labels }>(`/api/definitions/${encodeURIComponent(key)}`).then(
      (d) => d.labels ?? {},
      () => {
        byKey.delete(key);
        return {};
      },
    );
    byKey.set(key, p);
  }
  return p;
}

/** Display names by definition key, filled in as they arrive (a list re-renders with names). */
export function useLabels(keys: string[]): Record<string, Labels> {
  const [labels, setLabels] = useState<Record<string, Labels>>({});
  const wanted = [...new Set(keys)].sort().join('\n');
  useEffect(() => {
    let live = true;
    for (const key of wanted ? wanted.split('\n') : []) {
      void loadLabels(key).then((l) => live && setLabels((all) => (all[key] === l ? all : { ...all, [key]: l })));
    }
    return () => {
      live = false;
    };
  }, [wanted]);
  return labels;
}

/** The grids the caller may see, by id, with their names; empty until they arrive. */
export function useGridNames(): Map<string, string> {
  const [names, setNames] = useState<Map<string, string>>(new Map());
  useEffect(() => {
    let live = true;
    loadGrids().then(
      (grids) => live && setNames(new Map(grids.map((g) => [g.id, g.name]))),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, []);
  return names;
}

/** A grid's name, or its id when the registry does not say (another grid than the caller's). */
export const gridName = (names: Map<string, string>, id: string | null | undefined): string => (id ? names.get(id) ?? id : '—');
