import { ZONE_OFFSETS } from '../time';
import type { CheckContext } from './context';
import { list } from './words';

/** Document-level checks: time zones, data schemas, the business key, reserved context keys, template placeholders. */

/** Context keys the engine sets when an instance starts. */
export const ENGINE_CONTEXT_KEYS = ['input', 'grid', 'day', 'businessKey'];
const TEMPLATE_PATH = /^(context|event|instance|late)(\.[A-Za-z0-9_$-]+)+$/;

/** Placeholders a business key template may use; `seq` is a per-definition, per-year counter. */
export const BUSINESS_KEY_PLACEHOLDERS = ['grid', 'day', 'week', 'month', 'year', 'seq'] as const;

/** The definition's zone and its schedule's zone must be zones the engine knows the offset of. */
export function checkTimeZones({ doc, error }: CheckContext): void {
  if (doc.timezone !== undefined && ZONE_OFFSETS[doc.timezone] === undefined) {
    error('timezone', `unknown time zone "${doc.timezone}"; known: ${list(Object.keys(ZONE_OFFSETS))}`);
  }
  if (doc.schedule?.timezone !== undefined && ZONE_OFFSETS[doc.schedule.timezone] === undefined) {
    error('schedule.timezone', `unknown time zone "${doc.schedule.timezone}"; known: ${list(Object.keys(ZONE_OFFSETS))}`);
  }
}

/** Input and event data are objects whose fields are described under properties. */
export function checkDataSchemas({ doc, error }: CheckContext): void {
  if (doc.input && doc.input.type !== 'object') {
    error('input.type', `input must be type: object (got ${doc.input.type}); describe its fields under properties`);
  }
  for (const [name, schema] of Object.entries(doc.events ?? {})) {
    if (schema.type !== 'object') {
      error(`events.${name}.type`, `event data must be type: object (got ${schema.type}); describe its fields under properties`);
    }
  }
}

export function checkBusinessKey({ doc, error, warn }: CheckContext): void {
  if (doc.businessKey === undefined) return;
  const template = doc.businessKey;
  const fields = doc.input?.properties ?? {};
  const required = doc.input?.required ?? [];
  const valid = `use ${BUSINESS_KEY_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')} or {input.<field>}, e.g. "{grid}/{day}"`;
  for (const m of template.matchAll(/\{([^{}]*)\}/g)) {
    const name = m[1];
    if ((BUSINESS_KEY_PLACEHOLDERS as readonly string[]).includes(name)) continue;
    const field = /^input\.([A-Za-z0-9_]+)$/.exec(name)?.[1];
    if (field === undefined) {
      error('businessKey', `businessKey placeholder "${m[0]}" is unknown; ${valid}`);
    } else if (!(field in fields)) {
      error('businessKey', `businessKey placeholder "${m[0]}" names no input field; input fields: ${list(Object.keys(fields))}`);
    } else if (!required.includes(field)) {
      warn('businessKey', `businessKey placeholder "${m[0]}" is an optional input field, so the key may have an empty part; add "${field}" to input.required`);
    }
  }
  if (/[{}]/.test(template.replace(/\{[^{}]*\}/g, ''))) {
    error('businessKey', `businessKey "${template}" has an unmatched brace; ${valid}`);
  }
}

export function checkContextKeys({ doc, error }: CheckContext): void {
  for (const key of Object.keys(doc.machine.context ?? {})) {
    if (ENGINE_CONTEXT_KEYS.includes(key)) {
      error(`machine.context.${key}`, `context key "${key}" is set by the engine when an instance starts (${ENGINE_CONTEXT_KEYS.join(', ')}); use another name`);
    }
  }
}

/** A placeholder that is not a path into the render scope renders nothing. */
export function checkTemplatePlaceholders({ doc, warn }: CheckContext): void {
  for (const [name, t] of Object.entries(doc.templates ?? {})) {
    for (const field of ['title', 'body'] as const) {
      for (const m of t[field].matchAll(/\{\{(.*?)\}\}/g)) {
        const inner = m[1].trim();
        if (!TEMPLATE_PATH.test(inner)) {
          warn(`templates.${name}.${field}`, `placeholder "${m[0]}" renders nothing: a placeholder is a path starting with context., event., instance. or late. (in reminders and escalations: late.task, late.for, late.due), e.g. "{{context.grid}}"`);
        }
      }
    }
  }
}
