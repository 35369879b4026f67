import type { WorkCalendar } from './calendar';
import { compileDefinition, type CompiledDefinition } from './compile';
import type { DefinitionDocument } from './document.schema';

/**
 * Compiled definitions, shared by every workflow of a worker thread. The workflow bundle preloads
 * this module (`WORKFLOW_BUNDLER_OPTIONS` in worker/create-worker.ts), so it and the engine modules
 * it imports are evaluated once per thread and this map outlives any one workflow; without the
 * preload each workflow gets its own module instances and the map only ever holds its own entry.
 *
 * A version's document never changes, so its content hash (the API's `documentHash`) names one
 * compiled machine; the calendar the instance started with is part of the key. Compiling is pure:
 * a cached machine steps exactly as a fresh one (the replay gate checks histories recorded with
 * either), and nothing mutates a compiled definition or its document, which are frozen here so that
 * a change that tried would fail in tests rather than leak from one instance into another.
 */
const LIMIT = 64;
const compiled = new Map<string, CompiledDefinition>();

export interface DefinitionRef {
  document: DefinitionDocument;
  /** sha256 of the canonical document; absent in histories recorded before the cache. */
  hash?: string;
}

export function compiledDefinition(definition: DefinitionRef, calendar?: WorkCalendar): CompiledDefinition {
  if (!definition.hash) return compileDefinition(definition.document, calendar);
  const key = `${definition.hash}|${calendar === undefined ? '' : JSON.stringify(calendar)}`;
  const hit = compiled.get(key);
  if (hit) return hit;
  const fresh = compileDefinition(deepFreeze(structuredJson(definition.document)), calendar === undefined ? undefined : deepFreeze(structuredJson(calendar)));
  if (compiled.size >= LIMIT) compiled.delete(compiled.keys().next().value as string);
  compiled.set(key, fresh);
  return fresh;
}

/** How many compiled definitions the thread holds (tests). */
export const compiledCount = (): number => compiled.size;

// The cache keeps its own copy: the instance that first compiled it keeps an unfrozen document.
function structuredJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}
