import type { DataSchema, DefinitionDocument } from './document.schema';

/** `13812345678` -> `138****5678`; anything else personal -> `***`. */
export function maskValue(v: unknown): unknown {
  if (typeof v === 'string' && /^\d{7,}$/.test(v)) return `${v.slice(0, 3)}****${v.slice(-4)}`;
  if (v === undefined || v === null) return v;
  return '***';
}

function redact(schema: DataSchema | undefined, value: unknown): unknown {
  if (!schema || value === undefined || value === null) return value;
  if (schema.personal) return maskValue(value);
  if (schema.type === 'object' && schema.properties && typeof value === 'object' && !Array.isArray(value)) {
    const props = schema.properties;
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redact(props[k], v)]));
  }
  if (schema.type === 'array' && schema.items && Array.isArray(value)) return value.map((v) => redact(schema.items, v));
  return value;
}

/** The instance input with the fields its definition marks `personal` masked. */
export function redactInput(doc: DefinitionDocument, input: unknown): unknown {
  return redact(doc.input, input);
}

/** An event's data with the fields its definition marks `personal` masked. */
export function redactEvent(doc: DefinitionDocument, type: string, data: unknown): unknown {
  if (type === '@start') return redactInput(doc, data);
  return redact(doc.events?.[type], data);
}
