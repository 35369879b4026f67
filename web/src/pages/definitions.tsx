import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { stringify } from 'yaml';
import { ApiError, get, post, qs } from '../api';
import { MachineDiagram } from '../diagram';
import { currentLang, t, when } from '../i18n';
import { parseDraft } from '../yaml-lines';
import { ErrorBox, PageTitle, Show, useLoad } from '../util';
import { loadDefinitions, loadGrids } from './common';
import { nameIn, stateName, type Labels } from '../labels';
import { ColumnHeads, Select } from '../widgets';

export function DefinitionList() {
  const data = useLoad(() => loadDefinitions(true), []);
  return (
    <>
      <PageTitle>{t('definitionsTitle')}</PageTitle>
      <Show of={data}>
        {(items) => (
          <table class="list">
            <thead>
              <tr>
                <th scope="col">{t('definition')}</th>
                <th scope="col">key</th>
                <th scope="col" class="num">
                  {t('latestVersion')}
                </th>
                <th scope="col">{t('updated')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.key}>
                  <th scope="row">
                    <a href={`#/definitions/${encodeURIComponent(d.key)}`} aria-label={`${t('edit')} ${d.title}`}>
                      {d.title}
                    </a>
                  </th>
                  <td>
                    <code>{d.key}</code>
                  </td>
                  <td class="num">{d.latestVersion}</td>
                  <td>{when(d.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Show>
    </>
  );
}

interface Problem {
  line?: number;
  path?: string;
  message: string;
}

type Check = { state: 'checking' } | { state: 'valid'; warnings: Problem[] } | { state: 'invalid'; errors: Problem[]; warnings: Problem[] } | { state: 'offline'; error: Error };

/** The editor's text, validated as it changes: YAML first, then the API's full check. */
function useValidation(text: string) {
  const parsed = useMemo(() => parseDraft(text), [text]);
  const [check, setCheck] = useState<Check>({ state: 'checking' });
  useEffect(() => {
    if (parsed.syntax.length) {
      setCheck({ state: 'invalid', errors: parsed.syntax.map((s) => ({ line: s.line, message: s.message })), warnings: [] });
      return;
    }
    setCheck({ state: 'checking' });
    let live = true;
    const timer = setTimeout(() => {
      post<{ valid: true; warnings: Problem[] }>('/api/definitions/validate', parsed.value).then(
        (r) => live && setCheck({ state: 'valid', warnings: r.warnings.map((w) => ({ ...w, line: parsed.lineOf(w.path ?? '') })) }),
        (e: Error) => {
          if (!live) return;
          if (e instanceof ApiError && (e.status === 422 || e.status === 400)) {
            const errors = (e.errors.length ? e.errors : [{ path: '$', message: e.message }]).map((x) => ({ ...x, line: parsed.lineOf(x.path) }));
            setCheck({ state: 'invalid', errors, warnings: [] });
          } else setCheck({ state: 'offline', error: e });
        },
      );
    }, 300);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [parsed]);
  return { parsed, check };
}

function YamlEditor({ text, onChange, errorLines, editorRef }: { text: string; onChange: (s: string) => void; errorLines: Set<number>; editorRef: { current: HTMLTextAreaElement | null } }) {
  const gutter = useRef<HTMLDivElement>(null);
  const lines = text.split('\n').length;
  return (
    <div class="code-editor">
      <div class="gutter" aria-hidden="true" ref={gutter}>
        {Array.from({ length: lines }, (_, i) => (
          <div key={i} class={errorLines.has(i + 1) ? 'bad' : undefined}>
            {i + 1}
          </div>
        ))}
      </div>
      <textarea
        id="definition-yaml"
        ref={editorRef}
        spellcheck={false}
        autoCapitalize="off"
        autoComplete="off"
        wrap="off"
        value={text}
        aria-describedby="editor-keys validation-summary"
        aria-invalid={errorLines.size > 0}
        onInput={(e) => onChange(e.currentTarget.value)}
        onScroll={(e) => {
          if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop;
        }}
        onKeyDown={(e) => {
          // Tab indents by two spaces; Escape then Tab leaves the editor (keyboard users are not trapped).
          if (e.key === 'Tab' && !e.shiftKey && !(e.currentTarget.dataset.escaped === '1')) {
            e.preventDefault();
            const el = e.currentTarget;
            const { selectionStart: s, selectionEnd: end } = el;
            el.setRangeText('  ', s, end, 'end');
            onChange(el.value);
          }
          e.currentTarget.dataset.escaped = e.key === 'Escape' ? '1' : '0';
        }}
      />
    </div>
  );
}

/** Selects line `n` of the textarea and scrolls to it. */
function goToLine(el: HTMLTextAreaElement | null, n: number) {
  if (!el) return;
  const lines = el.value.split('\n');
  const start = lines.slice(0, n - 1).reduce((a, l) => a + l.length + 1, 0);
  el.focus();
  el.setSelectionRange(start, start + (lines[n - 1]?.length ?? 0));
  const lineHeight = parseFloat(getComputedStyle(el).lineHeight) || 18;
  el.scrollTop = Math.max(0, (n - 5) * lineHeight);
}

interface SimRow {
  at: string;
  type: string;
  data: string;
}

/** `+30m`, `+2h`, `+1d` after `base`, or an absolute time as typed. */
function resolveAt(at: string, base: string): string {
  const m = /^\+\s*(\d+(?:\.\d+)?)\s*([smhd])$/.exec(at.trim());
  if (!m) return at.trim();
  const unit = { s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[m[2] as 's' | 'm' | 'h' | 'd'];
  return new Date(Date.parse(base) + Number(m[1]) * unit).toISOString();
}

/** Today at 08:30 in the community's zone, as the simulator's default start. */
function todayAt0830(): string {
  const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
  return `${day}T08:30:00+08:00`;
}

/** Every event the document names: its declared data schemas and the machine's transitions. */
/** The draft's display names, when its labels block is an object so far (the operator may be typing it). */
const draftLabels = (doc: any): Labels | undefined => (doc?.labels && typeof doc.labels === 'object' && !Array.isArray(doc.labels) ? doc.labels : undefined);

/** In the editor a name goes with its code: operators write the codes. */
const withCode = (name: string, code: string) => (name === code ? code : `${name} · ${code}`);
const eventWithCode = (labels: Labels | undefined, type: string) => withCode(nameIn(labels?.events?.[type]) ?? type, type);
const stateWithCode = (labels: Labels | undefined, state: string | null | undefined) => (state ? withCode(stateName(labels, state), state) : '∅');

function eventTypesOf(doc: any): string[] {
  const found = new Set<string>(Object.keys(doc?.events ?? {}));
  const walk = (node: any, depth: number) => {
    if (!node || typeof node !== 'object' || depth > 50) return;
    for (const k of Object.keys(node.on ?? {})) found.add(k);
    for (const child of Object.values(node.states ?? {})) walk(child, depth + 1);
  };
  walk(doc?.machine, 0);
  return [...found].sort();
}

function Simulator({ doc, valid }: { doc: any; valid: boolean }) {
  const eventTypes = eventTypesOf(doc);
  const labels = draftLabels(doc);
  const grids = useLoad(loadGrids, []);
  const [startAt, setStartAt] = useState(todayAt0830);
  const [grid, setGrid] = useState('grid-01');
  const firstEvent = Object.keys(doc?.machine?.states?.[doc?.machine?.initial]?.on ?? {})[0] ?? '';
  const [rows, setRows] = useState<SimRow[]>([{ at: '+1h', type: firstEvent, data: '' }]);
  const [result, setResult] = useState<any>();
  const [error, setError] = useState<Error>();
  const update = (i: number, patch: Partial<SimRow>) => setRows(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));

  const run = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setResult(undefined);
    try {
      const events = rows
        .filter((r) => r.type)
        .map((r, i) => {
          let data: unknown;
          try {
            data = r.data.trim() ? JSON.parse(r.data) : undefined;
          } catch {
            throw new ApiError(400, 'Bad Request', `event ${i + 1}: the data is not valid JSON`);
          }
          return { at: resolveAt(r.at, startAt), type: r.type, ...(data ? { data } : {}) };
        });
      const until = events.length ? new Date(Date.parse(events[events.length - 1].at) + 86_400_000).toISOString() : undefined;
      setResult(await post('/api/definitions/draft/simulate', { document: doc, startAt, ...(doc?.grid ? { grid } : {}), events, ...(until ? { until } : {}) }));
    } catch (err) {
      setError(err as Error);
    }
  };

  return (
    <section aria-labelledby="sim-h" class="card">
      <h2 id="sim-h">{t('simulator')}</h2>
      <p class="muted">{t('simulatorHelp')}</p>
      <form onSubmit={(e) => void run(e)}>
        <div class="row">
          <label>
            {t('startAt')}
            <input value={startAt} onInput={(e) => setStartAt(e.currentTarget.value)} size={26} />
          </label>
          {doc?.grid && (
            <label>
              {t('gridForSim')}
              <Select value={grid} onChange={(e) => setGrid(e.currentTarget.value)} options={grids.data ?? [{ id: 'grid-01', name: 'grid-01' }]} />
            </label>
          )}
        </div>
        <fieldset>
          <legend>{t('events')}</legend>
          {rows.map((r, i) => (
            <div class="row sim-row" key={i}>
              <label>
                {t('at')} {i + 1}
                <input value={r.at} onInput={(e) => update(i, { at: e.currentTarget.value })} size={10} />
              </label>
              <label>
                {t('type')} {i + 1}
                <select value={r.type} onChange={(e) => update(i, { type: e.currentTarget.value })}>
                  <option value="">—</option>
                  {eventTypes.map((ty) => (
                    <option key={ty} value={ty}>
                      {eventWithCode(labels, ty)}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                {t('data')} {i + 1}
                <input value={r.data} onInput={(e) => update(i, { data: e.currentTarget.value })} size={28} placeholder="{…}" />
              </label>
              <button type="button" onClick={() => setRows(rows.filter((_, j) => j !== i))} aria-label={`${t('remove')} ${i + 1}`}>
                {t('remove')}
              </button>
            </div>
          ))}
          <button type="button" onClick={() => setRows([...rows, { at: `+${rows.length + 1}h`, type: '', data: '' }])}>
            {t('addEvent')}
          </button>
        </fieldset>
        <button type="submit" class="primary" disabled={!valid}>
          {t('simulate')}
        </button>
      </form>
      {error && <ErrorBox error={error} />}
      {result && (
        <div aria-live="polite">
          <table class="list compact sim-steps">
            <caption>{t('steps')}</caption>
            <ColumnHeads heads={[t('at'), t('event'), t('from'), t('to'), t('notifications')]} />
            <tbody>
              {result.steps.map((s: any, i: number) => (
                <tr key={i} class={s.rejected ? 'rejected' : s.late ? 'overdue' : undefined}>
                  <td>{s.at.replace('T', ' ').slice(0, 16)}</td>
                  <td>
                    {nameIn(labels?.events?.[s.event]) && `${nameIn(labels?.events?.[s.event])} `}
                    <code>{s.event}</code>
                    {s.rejected && <div class="field-error">{s.rejected.message}</div>}
                  </td>
                  <td>{stateWithCode(labels, s.from)}</td>
                  <td>{stateWithCode(labels, s.to)}</td>
                  <td>{s.notifications.map((n: any) => n.title).join('；')}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p class="final" role="status">
            {t('finalState', { state: stateWithCode(labels, result.final.state), status: result.final.status })}
          </p>
        </div>
      )}
    </section>
  );
}

const KINDS: Record<string, [string, string]> = { added: ['新增', 'added'], removed: ['删除', 'removed'], changed: ['修改', 'changed'] };
const SUBJECTS: Record<string, [string, string]> = {
  state: ['状态', 'state'],
  transition: ['转换', 'transition'],
  timer: ['定时器', 'timer'],
  reminder: ['提醒', 'reminder'],
  escalation: ['督办', 'escalation'],
  task: ['任务', 'task'],
  event: ['事件数据', 'event schema'],
  template: ['消息模板', 'template'],
  schedule: ['计划', 'schedule'],
  input: ['输入', 'input'],
  label: ['显示名称', 'display name'],
};

/** One change of the diff as a line: kind, subject, where, and the new target of a transition. */
function describeChange(c: { kind: string; subject: string; state?: string; name?: string; after?: unknown }) {
  const i = currentLang() === 'zh' ? 0 : 1;
  const target = c.subject === 'transition' && Array.isArray(c.after) ? (c.after as { target?: string }[]).map((x) => x.target).filter(Boolean).join(', ') : '';
  return (
    <>
      <strong>{KINDS[c.kind]?.[i] ?? c.kind}</strong> {SUBJECTS[c.subject]?.[i] ?? c.subject} {c.state && <code>{c.state}</code>} {c.name && <code>{c.name}</code>}
      {target && <> → <code>{target}</code></>}
    </>
  );
}

function DiffPanel({ doc, valid, published }: { doc: any; valid: boolean; published: number }) {
  const [diff, setDiff] = useState<any>();
  const [error, setError] = useState<Error>();
  const run = async () => {
    setError(undefined);
    try {
      setDiff(await post('/api/definitions/draft/diff', { document: doc, from: published }));
    } catch (e) {
      setError(e as Error);
    }
  };
  return (
    <section aria-labelledby="diff-h" class="card">
      <h2 id="diff-h">{t('diff')}</h2>
      <p class="muted">{t('diffAgainst', { v: published })}</p>
      <button type="button" onClick={() => void run()} disabled={!valid}>
        {t('showDiff')}
      </button>
      {error && <ErrorBox error={error} />}
      {diff && (
        <div aria-live="polite" class="diff">
          {diff.changes.length === 0 ? (
            <p>{t('noChanges')}</p>
          ) : (
            <ul>
              {diff.changes.map((c: any, i: number) => (
                <li key={i} class={`change ${c.kind ?? ''}`}>
                  {describeChange(c)}
                </li>
              ))}
            </ul>
          )}
          <h3>
            {t('runningAffected')}: {diff.runningTotal}
          </h3>
          <ul>
            {diff.running.map((r: any) => (
              <li key={r.state}>
                {t('runningInState', { state: r.state, n: r.running, c: r.changes })}
                {r.removedInTarget && <strong class="warn"> · {t('removedInTarget')}</strong>}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

function Publish({ doc, valid, onPublished }: { doc: any; valid: boolean; onPublished: (v: number) => void }) {
  const [note, setNote] = useState('');
  const [outcome, setOutcome] = useState<string>();
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const publish = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setOutcome(undefined);
    try {
      const r = await post<{ version: number; unchanged: boolean }>(`/api/definitions${qs({ note: note.trim() })}`, doc);
      setOutcome(r.unchanged ? t('unchanged', { v: r.version }) : t('published', { v: r.version }));
      if (!r.unchanged) onPublished(r.version);
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="pub-h" class="card">
      <h2 id="pub-h">{t('publish')}</h2>
      <form onSubmit={(e) => void publish(e)}>
        <label for="change-note" class="block">
          {t('changeNote')}
        </label>
        <textarea id="change-note" rows={2} maxLength={500} required value={note} onInput={(e) => setNote(e.currentTarget.value)} aria-describedby="change-note-help" />
        <p id="change-note-help" class="muted">
          {valid ? t('changeNoteHelp') : t('fixFirst')}
        </p>
        <button type="submit" class="primary" disabled={!valid || busy}>
          {t('publish')}
        </button>
      </form>
      {outcome && (
        <p class="ok" role="status">
          {outcome}
        </p>
      )}
      {error && <ErrorBox error={error} />}
    </section>
  );
}

const TOP = ['key', 'title', 'description', 'timezone', 'businessKey', 'grid', 'schedule', 'input', 'prefill', 'events', 'templates', 'labels', 'machine'];
const STATE = ['id', 'type', 'initial', 'context', 'meta', 'always', 'on', 'states'];
const META = ['task', 'reminders', 'escalations', 'timers'];

function ordered(obj: Record<string, unknown>, first: string[]): Record<string, unknown> {
  const keys = [...first.filter((k) => k in obj), ...Object.keys(obj).filter((k) => !first.includes(k))];
  return Object.fromEntries(keys.map((k) => [k, obj[k]]));
}

/** A state's children in the order a reader follows them: the initial one, then by transitions. */
function orderStates(states: Record<string, any>, initial: string | undefined): Record<string, unknown> {
  const names = Object.keys(states);
  const seen: string[] = [];
  const queue = [initial && initial in states ? initial : names[0]];
  while (queue.length) {
    const name = queue.shift() as string;
    if (!name || seen.includes(name)) continue;
    seen.push(name);
    for (const tr of Object.values(states[name]?.on ?? {})) {
      for (const x of Array.isArray(tr) ? tr : [tr]) {
        const target = typeof x === 'string' ? x : (x as { target?: string })?.target;
        if (typeof target === 'string' && target in states) queue.push(target);
      }
    }
  }
  const finals = names.filter((n) => !seen.includes(n));
  return Object.fromEntries([...seen, ...finals].map((n) => [n, presentState(states[n])]));
}

function presentState(s: any): unknown {
  if (!s || typeof s !== 'object' || Array.isArray(s)) return s;
  const out = ordered(s, STATE);
  if (out.meta && typeof out.meta === 'object') out.meta = ordered(out.meta as Record<string, unknown>, META);
  if (out.states && typeof out.states === 'object') out.states = orderStates(out.states as Record<string, any>, s.initial);
  return out;
}

/**
 * Stored documents come back with their keys sorted (PostgreSQL jsonb); shown to a person they read
 * in the document's own order: key and title first, the machine last, states from the initial one.
 */
/** Display names read Chinese first: `{ zh, en }`, an enum field's values after its own name. */
function presentLabels(labels: Record<string, unknown>): Record<string, unknown> {
  const name = (v: unknown): unknown => {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
    const out = ordered(v as Record<string, unknown>, ['zh', 'en', 'values']);
    if (out.values && typeof out.values === 'object') out.values = Object.fromEntries(Object.entries(out.values).map(([k, x]) => [k, name(x)]));
    return out;
  };
  const block = (b: unknown) => (b && typeof b === 'object' && !Array.isArray(b) ? Object.fromEntries(Object.entries(b).map(([k, v]) => [k, name(v)])) : b);
  return Object.fromEntries(Object.entries(ordered(labels, ['states', 'events', 'fields'])).map(([k, v]) => [k, block(v)]));
}

export function presentable(doc: Record<string, unknown>): Record<string, unknown> {
  const out = ordered(doc, TOP);
  if (out.labels && typeof out.labels === 'object') out.labels = presentLabels(out.labels as Record<string, unknown>);
  if (out.machine && typeof out.machine === 'object') out.machine = presentState(out.machine);
  return out;
}

export function DefinitionEditor({ definitionKey }: { definitionKey: string }) {
  const loaded = useLoad(async () => {
    const { version, createdAt: _c, ...doc } = await get<Record<string, unknown> & { version: number; createdAt: string }>(`/api/definitions/${encodeURIComponent(definitionKey)}`);
    return { version, text: stringify(presentable(doc), { lineWidth: 0 }) };
  }, [definitionKey]);
  return (
    <>
      <PageTitle>{t('editorTitle', { key: definitionKey })}</PageTitle>
      <Show of={loaded}>{(d) => <Editor initial={d.text} published={d.version} />}</Show>
    </>
  );
}

function Editor({ initial, published: firstPublished }: { initial: string; published: number }) {
  const [text, setText] = useState(initial);
  const [published, setPublished] = useState(firstPublished);
  const { parsed, check } = useValidation(text);
  const editorRef = useRef<HTMLTextAreaElement>(null);
  const problems = check.state === 'invalid' ? check.errors : [];
  const warnings = check.state === 'valid' || check.state === 'invalid' ? check.warnings : [];
  const errorLines = new Set(problems.map((p) => p.line).filter((n): n is number => n !== undefined));
  const valid = check.state === 'valid';
  const doc = parsed.value as any;
  // The last machine that parsed, so the diagram does not vanish while a line is half typed.
  const lastMachine = useRef<unknown>(doc?.machine);
  if (doc?.machine && typeof doc.machine === 'object') lastMachine.current = doc.machine;

  return (
    <div class="editor-layout">
      <div class="editor-main">
        <label for="definition-yaml" class="block">
          {t('document')}
        </label>
        <p id="editor-keys" class="muted small">
          {t('editorKeys')}
        </p>
        <YamlEditor text={text} onChange={setText} errorLines={errorLines} editorRef={editorRef} />
        <section aria-labelledby="validation-h" class="validation">
          <h2 id="validation-h">{t('validation')}</h2>
          <p id="validation-summary" role="status" aria-live="polite" class={check.state === 'valid' ? 'ok' : check.state === 'invalid' ? 'bad' : 'muted'}>
            {check.state === 'checking' ? t('checking') : check.state === 'valid' ? t('valid') : check.state === 'invalid' ? t('invalid', { n: problems.length }) : check.error.message}
          </p>
          {problems.length > 0 && (
            <ul class="problems">
              {problems.map((p, i) => (
                <li key={i}>
                  {p.line !== undefined ? (
                    <button type="button" class="link" onClick={() => goToLine(editorRef.current, p.line as number)} aria-label={`${t('goToLine', { n: p.line })}: ${p.message}`}>
                      {t('line', { n: p.line })}
                    </button>
                  ) : null}{' '}
                  {p.path && <code>{p.path}</code>} {p.message}
                </li>
              ))}
            </ul>
          )}
          {warnings.length > 0 && (
            <>
              <h3>{t('warnings')}</h3>
              <ul class="problems warnings">
                {warnings.map((w, i) => (
                  <li key={i}>
                    {w.line !== undefined && (
                      <button type="button" class="link" onClick={() => goToLine(editorRef.current, w.line as number)}>
                        {t('line', { n: w.line })}
                      </button>
                    )}{' '}
                    {w.path && <code>{w.path}</code>} {w.message}
                  </li>
                ))}
              </ul>
            </>
          )}
        </section>
      </div>
      <div class="editor-side">
        <section aria-labelledby="ed-diagram-h" class="card">
          <h2 id="ed-diagram-h">{t('diagram')}</h2>
          {lastMachine.current ? <MachineDiagram machine={lastMachine.current} title={String(doc?.title ?? '')} labels={draftLabels(doc)} /> : <p class="muted">{t('noData')}</p>}
        </section>
        <Simulator doc={doc} valid={valid} />
        <DiffPanel doc={doc} valid={valid} published={published} />
        <Publish doc={doc} valid={valid} onPublished={setPublished} />
      </div>
    </div>
  );
}
