import type { DataSchema } from './document.schema';
import type { PathError } from './path-error';
import { isDate } from './time';

// Callers of checkData name its errors from here.
export type { PathError };

const join = (base: string, key: string | number) => (base ? `${base}.${key}` : String(key));

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}...` : value}"`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/**
 * Checks `value` against a definition's data schema (a JSON-Schema subset). Unknown object keys
 * are errors, so a client cannot slip fields past the definition.
 */
export function checkData(schema: DataSchema, value: unknown, path = '', lookup?: (ref: string) => unknown): PathError[] {
  const errors: PathError[] = [];
  const fail = (message: string) => errors.push({ path: path || '$', message });
  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        fail(`expected an object, got ${describe(value)}`);
        break;
      }
      const record = value as Record<string, unknown>;
      // An object schema without properties takes any fields (data the engine itself produces).
      if (schema.properties === undefined) {
        for (const key of schema.required ?? []) {
          if (record[key] === undefined) errors.push({ path: join(path, key), message: `"${key}" is required` });
        }
        break;
      }
      const props = schema.properties;
      for (const key of schema.required ?? []) {
        if (record[key] === undefined) errors.push({ path: join(path, key), message: `"${key}" is required` });
      }
      for (const [key, v] of Object.entries(record)) {
        const sub = props[key];
        if (!sub) {
          const known = Object.keys(props);
          errors.push({
            path: join(path, key),
            message: `unknown field "${key}"; allowed: ${known.length ? known.join(', ') : 'none'}`,
          });
        } else if (v !== undefined) {
          errors.push(...checkData(sub, v, join(path, key), lookup));
        }
      }
      break;
    }
    case 'array': {
      if (!Array.isArray(value)) {
        fail(`expected an array, got ${describe(value)}`);
        break;
      }
      if (schema.minItems !== undefined && value.length < schema.minItems) fail(`needs at least ${schema.minItems} items`);
      if (schema.maxItems !== undefined && value.length > schema.maxItems) fail(`allows at most ${schema.maxItems} items`);
      if (schema.items) value.forEach((v, i) => errors.push(...checkData(schema.items as DataSchema, v, join(path, i), lookup)));
      break;
    }
    case 'string': {
      if (typeof value !== 'string') {
        fail(`expected a string, got ${describe(value)}`);
        break;
      }
      if (schema.minLength !== undefined && value.length < schema.minLength) {
        fail(schema.minLength === 1 ? 'must not be empty' : `needs at least ${schema.minLength} characters`);
      }
      if (schema.maxLength !== undefined && value.length > schema.maxLength) fail(`allows at most ${schema.maxLength} characters`);
      if (schema.format === 'date' && !isDate(value)) fail(`${describe(value)} is not a date; use YYYY-MM-DD`);
      if (schema.format === 'date-time' && (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(Date.parse(value)))) {
        fail(`${describe(value)} is not a date-time; use ISO 8601 with offset, e.g. 2026-11-25T18:00:00+08:00`);
      }
      break;
    }
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value) || (schema.type === 'integer' && !Number.isInteger(value))) {
        fail(`expected ${schema.type === 'integer' ? 'an integer' : 'a number'}, got ${describe(value)}`);
        break;
      }
      if (schema.minimum !== undefined && value < schema.minimum) fail(`must be at least ${schema.minimum}`);
      if (schema.maximum !== undefined && value > schema.maximum) fail(`must be at most ${schema.maximum}`);
      break;
    }
    case 'boolean':
      if (typeof value !== 'boolean') fail(`expected true or false, got ${describe(value)}`);
      break;
  }
  if (schema.enum && errors.length === 0 && !schema.enum.includes(value as string | number)) {
    fail(`${describe(value)} is not allowed; allowed: ${schema.enum.join(', ')}`);
  }
  // Choices the instance holds (a grid's open issues): only checked where there is an instance.
  if (schema.choicesFrom && lookup && errors.length === 0) {
    const list = lookup(schema.choicesFrom);
    const choices = Array.isArray(list) ? list : [];
    if (!choices.includes(value)) fail(`${describe(value)} is not one of the ${choices.length} choices in ${schema.choicesFrom}${choices.length ? `: ${choices.slice(0, 20).join(', ')}` : ''}`);
  }
  return errors;
}
