import { useState } from 'preact/hooks';
import { ApiError, post } from './api';
import { eventName, fieldName, t } from './i18n';
import { ErrorBox } from './util';

interface FieldSchema {
  type?: string;
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
      data[name] = f.type === 'integer' || f.type === 'number' ? Number(v) : f.type === 'boolean' ? v === 'true' : v;
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
            {f.enum ? (
              <select {...common} onChange={common.onInput} aria-describedby={describedBy}>
                <option value="">—</option>
                {f.enum.map((o) => (
                  <option key={String(o)} value={String(o)}>
                    {String(o)}
                  </option>
                ))}
              </select>
            ) : f.type === 'integer' || f.type === 'number' ? (
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
