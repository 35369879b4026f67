import type { ComponentChildren, JSX } from 'preact';
import { ErrorBox } from './util';

/*
 * The small pieces of markup the pages repeat: a choice list, a table's column heads, a form's
 * submit and cancel buttons. The pages keep their own strings and pass them in.
 */

/** One option of a Select: the value sent, and what the person sees. */
export interface Choice {
  id: string;
  name: ComponentChildren;
}

/** Strings offered as themselves. */
export const choicesOf = (values: readonly string[]): Choice[] => values.map((v) => ({ id: v, name: v }));

/** A select over `options` (none while they load); `empty`, when given, labels a first option with the empty value (all, none). */
export function Select({ value, onChange, options, empty, id }: { value?: string; onChange: (e: JSX.TargetedEvent<HTMLSelectElement>) => void; options: readonly Choice[] | undefined; empty?: string; id?: string }) {
  return (
    <select id={id} value={value} onChange={onChange}>
      {empty !== undefined && <option value="">{empty}</option>}
      {options?.map((o) => (
        <option key={o.id} value={o.id}>
          {o.name}
        </option>
      ))}
    </select>
  );
}

/** A table's head: one row of column headers. */
export function ColumnHeads({ heads }: { heads: readonly ComponentChildren[] }) {
  return (
    <thead>
      <tr>
        {heads.map((h, i) => (
          <th scope="col" key={i}>
            {h}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/** The end of an editing form: submit (disabled while `busy`), cancel when there is `onCancel`, and the error of the last try. */
export function FormActions({ submit, cancel, onCancel, busy, error }: { submit: ComponentChildren; cancel?: ComponentChildren; onCancel?: () => void; busy?: boolean; error?: Error }) {
  return (
    <>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {submit}
        </button>
        {onCancel && (
          <button type="button" onClick={onCancel}>
            {cancel}
          </button>
        )}
      </div>
      {error && <ErrorBox error={error} />}
    </>
  );
}
