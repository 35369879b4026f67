import { useState } from 'preact/hooks';
import { ApiError, post } from './api';
import { eventName, fieldName, t } from './i18n';
import { ErrorBox } from './util';

interface FieldSchema {
  type?: string | string[];
  items?: FieldSchema;
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  description?: string;
}
export interface EventSchema {
  type?: string;
  required?: string[];
  properties?: Record<string, FieldSchema>;
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
export function EventForm({ path, type, schema, suggestions = {}, onDone, onCancel }: { path: string; type: string; schema?: EventSchema; suggestions?: Record<string, string[]>; onDone: (r: { state: string; status: string }) => void; onCancel?: () => void }) {
  const [values, setValues] = useState<Record<string, string>>({});
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const [id] = useState(() => `ev${++formSeq}`);
  const props = Object.entries(schema?.properties ?? {});
  const required = new Set(schema?.required ?? []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    const data: Record<string, unknown> = {};
    for (const [name, f] of props) {
      const v = values[name];
      if (v === undefined || v === '') continue;
      const kind = kindOf(f);
      if (kind === 'json') {
        try {
          data[name] = JSON.parse(v);
        } catch {
          setError(new ApiError(400, 'Bad Request', `${fieldName(name)}: JSON`, [{ path: `data.${name}`, message: t('jsonHelp') }]));
          setBusy(false);
          return;
        }
      } else data[name] = kind === 'number' ? Number(v) : kind === 'boolean' ? v === 'true' : kind === 'list' ? v.split(/[,，、\n]/).map((s) => s.trim()).filter(Boolean) : v;
    }
    try {
      const result = await post<{ state: string; status: string }>(path, { type, ...(props.length ? { data } : {}), requestId: crypto.randomUUID() });
      setValues({});
      onDone(result);
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="event-form" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{eventName(type)}</h3>
      {props.map(([name, f]) => {
        const fid = `${id}-${name}`;
        const label = (
          <>
            {fieldName(name)}
            {required.has(name) && <span class="req"> （{t('required')}）</span>}
          </>
        );
        const common = { id: fid, name, required: required.has(name), value: values[name] ?? '', onInput: (e: Event) => setValues({ ...values, [name]: (e.currentTarget as HTMLInputElement).value }) };
        const fieldError = error instanceof ApiError ? error.errors.find((x) => x.path === `data.${name}`) : undefined;
        const describedBy = fieldError ? `${fid}-err` : undefined;
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
            ) : f.enum ? (
              <select {...common} onChange={common.onInput} aria-describedby={describedBy}>
                <option value="">—</option>
                {f.enum.map((o) => (
                  <option key={String(o)} value={String(o)}>
                    {String(o)}
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
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {t('confirm', { event: eventName(type) })}
        </button>
        {onCancel && (
          <button type="button" onClick={onCancel}>
            {t('cancel')}
          </button>
        )}
      </div>
      {error && <ErrorBox error={error} />}
    </form>
  );
}
