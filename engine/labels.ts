import type { DataSchema, DefinitionDocument, DisplayName, Labels, StateConfig } from './document.schema';

/**
 * Display names of a definition's states, events and data fields (the `labels` block): checked
 * against what the document declares, and looked up for people (the console, CSV exports). The
 * codes stay the contract; a name is only what a person reads, in zh-CN first, else English, else
 * the code itself.
 */

export type Lang = 'zh' | 'en';
type Report = (path: string, message: string) => void;

/** What a `labels` block may name: the document's state keys, events and fields (with the values of enum fields). */
export interface Nameable {
  states: string[];
  events: string[];
  /** Every field by its dotted path (`owner.kind`; an array's items by the array's name), with its enum values. */
  fields: Map<string, string[]>;
  /** The fields a person fills in or reads first: the top level of the input and of each event's data. */
  topFields: string[];
}

/** The states, events and fields of a document, in document order. */
export function nameable(doc: DefinitionDocument): Nameable {
  const states: string[] = [];
  const events = new Set<string>(Object.keys(doc.machine.on ?? {}));
  const visit = (state: StateConfig) => {
    for (const [key, child] of Object.entries(state.states ?? {})) {
      if (!states.includes(key)) states.push(key);
      for (const e of Object.keys(child.on ?? {})) events.add(e);
      for (const t of child.meta?.timers ?? []) events.add(t.send);
      visit(child);
    }
  };
  visit(doc.machine as StateConfig);
  for (const e of Object.keys(doc.events ?? {})) events.add(e);

  const fields = new Map<string, string[]>();
  const topFields: string[] = [];
  const walk = (schema: DataSchema | undefined, prefix: string) => {
    for (const [key, field] of Object.entries(schema?.properties ?? {})) {
      const path = prefix ? `${prefix}.${key}` : key;
      if (!prefix && !topFields.includes(path)) topFields.push(path);
      const values = (field.enum ?? field.items?.enum ?? []).map(String);
      fields.set(path, [...new Set([...(fields.get(path) ?? []), ...values])]);
      walk(field, path);
      if (field.items) walk(field.items, path);
    }
  };
  walk(doc.input, '');
  for (const schema of Object.values(doc.events ?? {})) walk(schema, '');
  return { states, events: [...events], fields, topFields };
}

const list = (items: Iterable<string>) => [...items].join(', ') || 'none';

/**
 * The `labels` block against the document: a name for something the document does not declare is
 * an error naming the valid ones. Once a document has a `labels` block, every state, event and
 * top-level field should have a name (a warning lists those without, and names without English);
 * a document without the block is shown by its codes, as before.
 */
export function checkLabels(doc: DefinitionDocument, error: Report, warn: Report): void {
  const labels = doc.labels;
  if (!labels) return;
  const known = nameable(doc);
  const kinds = [
    ['states', 'state', known.states, 'state keys'],
    ['events', 'event', known.events, 'events'],
    ['fields', 'field', [...known.fields.keys()], 'fields'],
  ] as const;
  for (const [block, noun, valid, plural] of kinds) {
    const names: Record<string, DisplayName> = labels[block] ?? {};
    for (const code of Object.keys(names)) {
      if (!valid.includes(code)) {
        const hint = block === 'fields' ? ' (a nested field by its dotted path, e.g. "owner.kind")' : '';
        error(`labels.${block}.${code}`, `"${code}" is no ${noun} of this definition, so its name would never show; ${plural}${hint}: ${list(valid)}`);
      }
    }
    const required = block === 'fields' ? known.topFields : valid;
    const missing = required.filter((code) => !names[code]);
    if (missing.length) warn(`labels.${block}`, `no display name for ${noun}${missing.length > 1 ? 's' : ''} ${list(missing)}; people see the code instead`);
    const noEnglish = Object.keys(names).filter((code) => valid.includes(code) && !names[code].en);
    if (noEnglish.length) warn(`labels.${block}`, `no English name (en) for ${list(noEnglish)}; the English console shows the Chinese name`);
    // Two buttons or columns with one name can not be told apart.
    const byName = new Map<string, string[]>();
    for (const [code, name] of Object.entries(names)) byName.set(name.zh, [...(byName.get(name.zh) ?? []), code]);
    for (const [zh, codes] of byName) {
      if (codes.length > 1) warn(`labels.${block}.${codes[1]}`, `${plural} ${list(codes)} are all called "${zh}"; give each its own name`);
    }
  }
  for (const [field, name] of Object.entries(labels.fields ?? {})) {
    const values = known.fields.get(field);
    if (!name.values || values === undefined) continue;
    if (!values.length) {
      error(`labels.fields.${field}.values`, `field "${field}" has no enum, so it has no values to name; name values of an enum field only, or add enum to the field`);
      continue;
    }
    for (const value of Object.keys(name.values)) {
      if (!values.includes(value)) error(`labels.fields.${field}.values.${value}`, `"${value}" is no value of field "${field}"; its values: ${list(values)}`);
    }
    const unnamed = values.filter((v) => !name.values?.[v]);
    if (unnamed.length) warn(`labels.fields.${field}.values`, `no display name for value${unnamed.length > 1 ? 's' : ''} ${list(unnamed)} of field "${field}"; people see the code instead`);
  }
}

/** A name in `lang`: English falls back to Chinese, and a missing name to the code. */
export function displayName(name: DisplayName | undefined, lang: Lang, code: string): string {
  return (lang === 'en' ? name?.en ?? name?.zh : name?.zh) ?? code;
}

/** A state as the read model writes it: a leaf key, or leaf keys joined by "," in parallel regions. */
export function stateLabel(labels: Labels | undefined, state: string, lang: Lang): string {
  if (!state) return state;
  return state
    .split(',')
    .map((key) => displayName(labels?.states?.[key], lang, key))
    .join(lang === 'zh' ? '、' : ', ');
}

export const eventLabel = (labels: Labels | undefined, event: string, lang: Lang): string => displayName(labels?.events?.[event], lang, event);
export const fieldLabel = (labels: Labels | undefined, field: string, lang: Lang): string => displayName(labels?.fields?.[field], lang, field);
export const valueLabel = (labels: Labels | undefined, field: string, value: string, lang: Lang): string =>
  displayName(labels?.fields?.[field]?.values?.[value], lang, value);
