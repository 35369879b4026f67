import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { displayName, eventLabel, fieldLabel, nameable, stateLabel, valueLabel } from '../../engine/labels';
import { validateDocument, type ValidationResult } from '../../engine/validate';
import { diffDefinitions } from '../../engine/diff';
import type { DefinitionDocument } from '../../engine/document.schema';

/** A small definition: a compound state, a timer event, input and event fields (one nested, one enum). */
const DOC = {
  key: 'inspection',
  title: '现场检查',
  grid: 'required',
  input: { type: 'object', properties: { site: { type: 'string' }, urgency: { type: 'string', enum: ['normal', 'urgent'] } } },
  events: {
    SUBMIT: { type: 'object', properties: { note: { type: 'string' }, owner: { type: 'object', properties: { kind: { type: 'string', enum: ['grid', 'partner'] } } } } },
  },
  labels: {
    states: { open: { zh: '进行中', en: 'Open' }, waiting: { zh: '待检查', en: 'Waiting' }, done: { zh: '已完成', en: 'Done' } },
    events: { SUBMIT: { zh: '提交', en: 'Submit' }, DAY_END: { zh: '日终', en: 'Day end' } },
    fields: {
      site: { zh: '地点', en: 'Site' },
      urgency: { zh: '紧急程度', en: 'Urgency', values: { normal: { zh: '一般', en: 'Normal' }, urgent: { zh: '紧急', en: 'Urgent' } } },
      note: { zh: '备注', en: 'Note' },
      owner: { zh: '责任方', en: 'Owner' },
    },
  },
  machine: {
    id: 'inspection',
    initial: 'open',
    states: {
      open: {
        initial: 'waiting',
        meta: { timers: [{ id: 'day-end', when: { at: '23:59' }, send: 'DAY_END' }] },
        on: { DAY_END: 'done' },
        states: { waiting: { meta: { task: { role: 'grid-worker', title: '检查现场' } }, on: { SUBMIT: '#inspection.done' } } },
      },
      done: { type: 'final' },
    },
  },
};

function validateWith(change: (doc: any) => void): ValidationResult {
  const doc = structuredClone(DOC) as any;
  change(doc);
  return validateDocument(doc);
}
const messagesAt = (issues: { path: string; message: string }[], p: string) => issues.filter((i) => i.path === p).map((i) => i.message);

describe('the labels block of a definition', () => {
  it('accepts names for every state, event and field, in Chinese and English, without warnings', () => {
    const result = validateWith(() => undefined);
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.document?.labels?.states?.waiting).toEqual({ zh: '待检查', en: 'Waiting' });
  });

  it('refuses a name for a state the machine does not have, naming the states it has', () => {
    const result = validateWith((d) => (d.labels.states.wating = { zh: '待检查' }));
    expect(result.valid).toBe(false);
    expect(messagesAt(result.errors, 'labels.states.wating')).toEqual(['"wating" is no state of this definition, so its name would never show; state keys: open, waiting, done']);
  });

  it('refuses a name for an unknown event, naming the events (a timer\'s included)', () => {
    const result = validateWith((d) => (d.labels.events.SUBMITT = { zh: '提交' }));
    expect(messagesAt(result.errors, 'labels.events.SUBMITT')).toEqual([expect.stringContaining('events: DAY_END, SUBMIT')]);
  });

  it('refuses a name for an unknown field and says how nested fields are named', () => {
    const result = validateWith((d) => (d.labels.fields.kind = { zh: '类型' }));
    expect(messagesAt(result.errors, 'labels.fields.kind')).toEqual([
      '"kind" is no field of this definition, so its name would never show; fields (a nested field by its dotted path, e.g. "owner.kind"): site, urgency, note, owner, owner.kind',
    ]);
    expect(validateWith((d) => (d.labels.fields['owner.kind'] = { zh: '类型', en: 'Kind' })).errors).toEqual([]);
  });

  it('refuses names for values of a field without an enum, and values the enum does not have', () => {
    const free = validateWith((d) => (d.labels.fields.site.values = { a: { zh: '甲' } }));
    expect(messagesAt(free.errors, 'labels.fields.site.values')).toEqual([expect.stringContaining('field "site" has no enum')]);
    const unknown = validateWith((d) => (d.labels.fields.urgency.values.critical = { zh: '特急' }));
    expect(messagesAt(unknown.errors, 'labels.fields.urgency.values.critical')).toEqual(['"critical" is no value of field "urgency"; its values: normal, urgent']);
  });

  it('warns about each state, event and top-level field left without a name, once per kind', () => {
    const result = validateWith((d) => {
      delete d.labels.states.open;
      delete d.labels.states.done;
      delete d.labels.events.DAY_END;
      delete d.labels.fields.note;
    });
    expect(result.valid).toBe(true);
    expect(messagesAt(result.warnings, 'labels.states')).toEqual(['no display name for states open, done; people see the code instead']);
    expect(messagesAt(result.warnings, 'labels.events')).toEqual(['no display name for event DAY_END; people see the code instead']);
    expect(messagesAt(result.warnings, 'labels.fields')).toEqual(['no display name for field note; people see the code instead']);
  });

  it('warns about names without English, enum values without a name and two things with one name', () => {
    const result = validateWith((d) => {
      delete d.labels.states.open.en;
      delete d.labels.fields.urgency.values.urgent;
      d.labels.events.DAY_END.zh = '提交';
    });
    expect(result.valid).toBe(true);
    expect(messagesAt(result.warnings, 'labels.states')).toEqual(['no English name (en) for open; the English console shows the Chinese name']);
    expect(messagesAt(result.warnings, 'labels.fields.urgency.values')).toEqual(['no display name for value urgent of field "urgency"; people see the code instead']);
    expect(messagesAt(result.warnings, 'labels.events.DAY_END')).toEqual(['events SUBMIT, DAY_END are all called "提交"; give each its own name']);
  });

  it('asks nothing of a definition without a labels block: it is shown by its codes', () => {
    const result = validateWith((d) => delete d.labels);
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
  });

  it('refuses a name without Chinese, an empty one and a language it does not know', () => {
    const noZh = validateWith((d) => (d.labels.states.open = { en: 'Open' }));
    expect(noZh.errors).toContainEqual({ path: 'labels.states.open.zh', message: expect.stringContaining('required') });
    const empty = validateWith((d) => (d.labels.events.SUBMIT = { zh: '' }));
    expect(empty.errors.map((e) => e.path)).toContain('labels.events.SUBMIT.zh');
    const french = validateWith((d) => (d.labels.states.open = { zh: '进行中', fr: 'Ouvert' }));
    expect(french.errors).toContainEqual({ path: 'labels.states.open', message: expect.stringContaining('fr') });
    const fieldFrench = validateWith((d) => (d.labels.fields.site = { zh: '地点', fr: 'Lieu' }));
    expect(fieldFrench.errors).toContainEqual({ path: 'labels.fields.site', message: expect.stringContaining('fr') });
    const kind = validateWith((d) => (d.labels.colours = {}));
    expect(kind.errors).toContainEqual({ path: 'labels', message: expect.stringContaining('colours') });
  });
});

describe('display names', () => {
  const labels = (validateWith(() => undefined).document as DefinitionDocument).labels;

  it('are Chinese first, English when asked, and the code when there is none', () => {
    expect(stateLabel(labels, 'waiting', 'zh')).toBe('待检查');
    expect(stateLabel(labels, 'waiting', 'en')).toBe('Waiting');
    expect(stateLabel(labels, 'elsewhere', 'zh')).toBe('elsewhere');
    expect(eventLabel(labels, 'SUBMIT', 'en')).toBe('Submit');
    expect(eventLabel(undefined, 'SUBMIT', 'zh')).toBe('SUBMIT');
    expect(fieldLabel(labels, 'owner', 'zh')).toBe('责任方');
    expect(valueLabel(labels, 'urgency', 'urgent', 'zh')).toBe('紧急');
    expect(valueLabel(labels, 'urgency', 'critical', 'zh')).toBe('critical');
  });

  it('fall back from English to Chinese', () => {
    expect(displayName({ zh: '待检查' }, 'en', 'waiting')).toBe('待检查');
  });

  it('name each region of a parallel state', () => {
    expect(stateLabel(labels, 'waiting,done', 'zh')).toBe('待检查、已完成');
    expect(stateLabel(labels, 'waiting,done', 'en')).toBe('Waiting, Done');
  });
});

describe('the built-in definitions', () => {
  const dir = path.join(__dirname, '..', '..', 'definitions');
  const docs = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.definition.yaml'))
    .map((f) => YAML.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as DefinitionDocument);

  it.each(docs.map((d) => [d.key, d] as const))('%s names every state, event and top-level field in Chinese and English', (_key, doc) => {
    const known = nameable(doc);
    const named = (block: Record<string, { zh: string; en?: string }> | undefined, codes: string[]) => codes.filter((c) => !block?.[c]?.zh || !block[c].en);
    expect(named(doc.labels?.states, known.states)).toEqual([]);
    expect(named(doc.labels?.events, known.events)).toEqual([]);
    expect(named(doc.labels?.fields, known.topFields)).toEqual([]);
    // Chinese names are Chinese: at least one CJK character each.
    const all = [...Object.values(doc.labels?.states ?? {}), ...Object.values(doc.labels?.events ?? {}), ...Object.values(doc.labels?.fields ?? {})];
    expect(all.filter((l) => !/[\u4e00-\u9fff]/.test(l.zh))).toEqual([]);
  });

  it('use the community\'s own words for the issue steps', () => {
    const issue = docs.find((d) => d.key === 'issue') as DefinitionDocument;
    expect(stateLabel(issue.labels, 'deliberation', 'zh')).toBe('集中议事');
    expect(stateLabel(issue.labels, 'handling', 'zh')).toBe('办理中');
    expect(eventLabel(issue.labels, 'VERIFY_OK', 'zh')).toBe('核查通过');
    expect(valueLabel(issue.labels, 'source', 'party-member', 'zh')).toBe('党员问事');
  });
});

describe('a new version that only renames', () => {
  it('lists each display name added, changed or removed as a change', () => {
    const before = validateWith(() => undefined).document as DefinitionDocument;
    const after = validateWith((d) => {
      d.labels.states.waiting = { zh: '待现场检查', en: 'Waiting' };
      delete d.labels.events.DAY_END;
      d.labels.fields['owner.kind'] = { zh: '类型', en: 'Kind' };
    }).document as DefinitionDocument;
    const changes = diffDefinitions(before, after).map((c) => [c.subject, c.kind, c.name]);
    expect(changes).toEqual([
      ['label', 'changed', 'states.waiting'],
      ['label', 'removed', 'events.DAY_END'],
      ['label', 'added', 'fields.owner.kind'],
    ]);
  });
});
