import { useState } from 'preact/hooks';
import { ApiError, post } from './api';
import { t } from './i18n';
import { eventLabel, fieldLabel, valueLabel, type Labels } from './labels';
import { FormActions } from './widgets';
import { EvidenceField, uploadEvidence, type EvidenceRule } from './evidence';

interface FieldSchema {
  type?: string | string[];
  items?: FieldSchema;
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  description?: string;
  /** The value (or each item) is one of the list the process holds at this context path. */
  choicesFrom?: string;
}
export interface EventSchema {
  type?: string;
  required?: string[];
  properties?: Record<string, FieldSchema>;
}

/** Fields whose values the process offers (`choicesFrom`): field name -> the context path. */
export function choiceFields(schema: EventSchema | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, f] of Object.entries(schema?.properties ?? {})) {
    const from = f.choicesFrom ?? f.items?.choicesFrom;
    if (from) out[name] = from;
  }
  return out;
}

/** The choices of each such field, read from a process's context. */
export function choicesIn(schema: EventSchema | undefined, context: Record<string, unknown> | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, from] of Object.entries(choiceFields(schema))) {
    let cur: unknown = { context: context ?? {} };
    for (const part of from.split('.')) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[part] : undefined;
    out[name] = Array.isArray(cur) ? cur.map(String) : [];
  }
  return out;
}

/** Whether an event needs a form (it has fields) or is one tap. */
export const hasFields = (schema: EventSchema | undefined) => Object.keys(schema?.properties ?? {}).length > 0;

let formSeq = 0;

type Kind = 'text' | 'number' | 'boolean' | 'list' | 'json';
/** How a field is typed in: a list of words is comma-separated, anything structured is JSON. */
function kindOf(f: FieldSchema): Kind {
  const type = Array.isArray(f.type) ? f.type.find((x) => x !== 'null') : f.type;
  if (type === 'integer' || type === 'number') return 'number';
  if (type === 'boolean') return 'boolean';
  if (type === 'array') return f.items?.type === 'string' && !f.items.enum ? 'list' : 'json';
  if (type === 'object') return 'json';
  return 'text';
}

/**
 * A form for one event built from the definition's schema of its data: text, number, choice. The
 * API checks the data again; its field errors are shown next to the form.
 */
export function EventForm({
  path,
  type,
  schema,
  suggestions = {},
  choices = {},
  labels,
  onDone,
  onCancel,
  evidence,
  submitWith,
  onQueued,
}: {
  path: string;
  type: string;
  schema?: EventSchema;
  suggestions?: Record<string, string[]>;
  /** Values the process offers for a field (`choicesFrom`): a list field becomes checkboxes. */
  choices?: Record<string, string[]>;
  /** The definition's display names for the event, its fields and their values. */
  labels?: Labels;
  onDone: (r: { state: string; status: string }) => void;
  onCancel?: () => void;
  /** When the event takes evidence: the process the files are uploaded for and the definition's rule. */
  evidence?: { workflowId: string; rule: EvidenceRule; accept?: string; help?: string };
  /**
   * Hands the data and the picked files to the caller instead of uploading and posting here (the
   * field page's outbox): answers the new state when it was sent, or undefined when it was queued.
   */
  submitWith?: (type: string, data: Record<string, unknown> | undefined, files: File[]) => Promise<{ state: string; status: string } | undefined>;
  onQueued?: () => void;
}) {
  const [values, setValues] = useState<Record<string, string>>({});
  const [picked, setPicked] = useState<Record<string, string[]>>({});
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const [files, setFiles] = useState<File[]>([]);
  const [id] = useState(() => `ev${++formSeq}`);
  const props = Object.entries(schema?.properties ?? {});
  const required = new Set(schema?.required ?? []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    const data: Record<string, unknown> = {};
    for (const [name, f] of props) {
      if (choices[name] && kindOf(f) === 'list') {
        if (picked[name]?.length) data[name] = picked[name];
        continue;
      }
      const v = values[name];
      if (v === undefined || v === '') continue;
      const kind = kindOf(f);
      if (kind === 'json') {
        try {
          data[name] = JSON.parse(v);
        } catch {
          setError(new ApiError(400, 'Bad Request', `${fieldLabel(labels, name)}: JSON`, [{ path: `data.${name}`, message: t('jsonHelp') }]));
          setBusy(false);
          return;
        }
      } else data[name] = kind === 'number' ? Number(v) : kind === 'boolean' ? v === 'true' : kind === 'list' ? v.split(/[,，、\n]/).map((s) => s.trim()).filter(Boolean) : v;
    }
    try {
      if (submitWith) {
        const sent = await submitWith(type, props.length ? data : undefined, files);
        setValues({});
        setPicked({});
        setFiles([]);
        if (sent) onDone(sent);
        else onQueued?.();
        return;
      }
      // Files go first, each to the process; the event carries only their references.
      if (evidence && files.length) data.evidence = await Promise.all(files.map((f) => uploadEvidence(evidence.workflowId, f)));
      const result = await post<{ state: string; status: string }>(path, { type, ...(props.length || data.evidence ? { data } : {}), requestId: crypto.randomUUID() });
      setValues({});
      setPicked({});
      setFiles([]);
      onDone(result);
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="event-form" onSubmit={(e) => void submit(e)} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{eventLabel(labels, type)}</h3>
      {props.map(([name, f]) => {
        const fid = `${id}-${name}`;
        const label = (
          <>
            {fieldLabel(labels, name)}
            {required.has(name) && <span class="req"> （{t('required')}）</span>}
          </>
        );
        const common = { id: fid, name, required: required.has(name), value: values[name] ?? '', onInput: (e: Event) => setValues({ ...values, [name]: (e.currentTarget as HTMLInputElement).value }) };
        const fieldError = error instanceof ApiError ? error.errors.find((x) => x.path === `data.${name}` || x.path.startsWith(`data.${name}.`)) : undefined;
        const describedBy = fieldError ? `${fid}-err` : undefined;
        if (choices[name] && kindOf(f) === 'list') {
          const list = choices[name];
          const toggle = (v: string, on: boolean) => setPicked({ ...picked, [name]: on ? [...(picked[name] ?? []), v] : (picked[name] ?? []).filter((x) => x !== v) });
          return (
            <fieldset class="field" key={name} aria-describedby={fieldError ? `${fid}-err` : undefined}>
              <legend>{label}</legend>
              {list.length === 0 && <p class="muted small">{t('noChoices')}</p>}
              {list.map((v, i) => (
                <label key={v} class="check" for={`${fid}-${i}`}>
                  <input id={`${fid}-${i}`} type="checkbox" checked={(picked[name] ?? []).includes(v)} onChange={(e) => toggle(v, (e.currentTarget as HTMLInputElement).checked)} /> {v}
                </label>
              ))}
              {fieldError && (
                <p id={`${fid}-err`} class="field-error">
                  {fieldError.message}
                </p>
              )}
            </fieldset>
          );
        }
        return (
          <div class="field" key={name}>
            <label for={fid}>{label}</label>
            {kindOf(f) === 'boolean' ? (
              <select {...common} onChange={common.onInput} aria-describedby={describedBy}>
                <option value="">—</option>
                <option value="true">{t('yes')}</option>
                <option value="false">{t('no')}</option>
              </select>
            ) : kindOf(f) === 'json' ? (
              <textarea {...common} rows={3} placeholder="JSON" aria-describedby={describedBy ?? `${fid}-hint`} />
            ) : f.enum || choices[name] ? (
              <select {...common} onChange={common.onInput} aria-describedby={describedBy}>
                <option value="">—</option>
                {(f.enum ?? choices[name] ?? []).map((o) => (
                  <option key={String(o)} value={String(o)}>
                    {valueLabel(labels, name, String(o))}
                  </option>
                ))}
              </select>
            ) : kindOf(f) === 'number' ? (
              <input {...common} type="number" inputMode="numeric" min={f.minimum} max={f.maximum} step={f.type === 'integer' ? 1 : 'any'} aria-describedby={describedBy} />
            ) : (f.maxLength ?? 0) > 200 ? (
              <textarea {...common} rows={3} maxLength={f.maxLength} aria-describedby={describedBy} />
            ) : (
              <input {...common} type="text" maxLength={f.maxLength} aria-describedby={describedBy} list={suggestions[name]?.length ? `${fid}-list` : undefined} />
            )}
            {suggestions[name]?.length ? (
              <datalist id={`${fid}-list`}>
                {suggestions[name].map((s) => (
                  <option key={s} value={s} />
                ))}
              </datalist>
            ) : null}
            {kindOf(f) === 'list' && <p class="muted small">{t('listHelp')}</p>}
            {kindOf(f) === 'json' && (
              <p id={`${fid}-hint`} class="muted small">
                {t('jsonHelp')}
              </p>
            )}
            {fieldError && (
              <p id={`${fid}-err`} class="field-error">
                {fieldError.message}
              </p>
            )}
          </div>
        );
      })}
      {evidence && (
        <EvidenceField
          id={`${id}-evidence`}
          rule={evidence.rule}
          accept={evidence.accept}
          help={evidence.help}
          files={files}
          onChange={setFiles}
          error={error instanceof ApiError ? error.errors.find((x) => x.path === 'data.evidence' || x.path.startsWith('data.evidence.'))?.message : undefined}
        />
      )}
      <FormActions submit={t('confirm', { event: eventLabel(labels, type) })} cancel={t('cancel')} onCancel={onCancel} busy={busy} error={error} />
    </form>
  );
}
