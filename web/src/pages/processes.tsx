import { useState } from 'preact/hooks';
import { get, qs } from '../api';
import { roleName, statusName, t, when } from '../i18n';
import { ErrorBox, PageTitle, Show, navigate, useLoad } from '../util';
import { loadDefinitions, loadGrids } from './common';
import { gridName, stateName, useGridNames, useLabels } from '../labels';

export interface Summary {
  workflowId: string;
  definition: string | { key: string; version: number };
  grid: string | null;
  businessKey: string | null;
  status: string;
  state: string;
  assignee?: string | null;
  dueAt?: string | null;
  overdue: boolean;
  startedAt: string;
  updatedAt: string;
  title?: string;
}

export const defKey = (d: Summary['definition']) => (typeof d === 'string' ? d : d.key);
export const processHref = (id: string) => `#/processes/${encodeURIComponent(id)}`;

const FILTERS = ['definition', 'grid', 'state', 'status', 'assignee', 'level', 'startedFrom', 'startedTo', 'overdue', 'q'] as const;

export function ProcessList({ query }: { query: URLSearchParams }) {
  const filters = Object.fromEntries(FILTERS.map((f) => [f, query.get(f) ?? ''])) as Record<(typeof FILTERS)[number], string>;
  const [form, setForm] = useState(filters);
  const [extra, setExtra] = useState<{ items: Summary[]; next: string | null } | null>(null);
  const [moreError, setMoreError] = useState<Error>();
  const options = useLoad(() => Promise.all([loadDefinitions(), loadGrids()]), []);
  const list = useLoad(() => get<{ items: Summary[]; nextCursor: string | null }>(`/api/processes${qs({ ...filters, limit: 50 })}`), [query.toString()]);
  const grids = useGridNames();
  const shown = [...(list.data?.items ?? []), ...(extra?.items ?? [])];
  const labels = useLabels([...shown.map((p) => defKey(p.definition)), form.definition].filter(Boolean));
  // The chosen definition's states, offered by name for the state filter (which takes the code).
  const stateChoices = Object.entries(labels[form.definition]?.states ?? {});
  const titles = new Map((options.data?.[0] ?? []).map((d) => [d.key, d.title]));

  const apply = (e: Event) => {
    e.preventDefault();
    setExtra(null);
    navigate(`#/processes${qs(form)}`);
  };
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).type === 'checkbox' ? ((e.currentTarget as HTMLInputElement).checked ? 'true' : '') : (e.currentTarget as HTMLInputElement).value });
  const more = async (cursor: string) => {
    try {
      const page = await get<{ items: Summary[]; nextCursor: string | null }>(`/api/processes${qs({ ...filters, limit: 50, cursor })}`);
      setExtra({ items: [...(extra?.items ?? []), ...page.items], next: page.nextCursor });
    } catch (err) {
      setMoreError(err as Error);
    }
  };

  return (
    <>
      <PageTitle>{t('processesTitle')}</PageTitle>
      <form class="filters" onSubmit={apply} role="search" aria-label={t('filters')}>
        <label>
          {t('definition')}
          <select value={form.definition} onChange={set('definition')}>
            <option value="">{t('all')}</option>
            {options.data?.[0].map((d) => (
              <option key={d.key} value={d.key}>
                {d.title}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('grid')}
          <select value={form.grid} onChange={set('grid')}>
            <option value="">{t('all')}</option>
            {options.data?.[1].map((g) => (
              <option key={g.id} value={g.id}>
                {g.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('statusLabel')}
          <select value={form.status} onChange={set('status')}>
            <option value="">{t('all')}</option>
            {['running', 'completed', 'failed', 'cancelled'].map((s) => (
              <option key={s} value={s}>
                {statusName(s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('stateLabel')}
          <input value={form.state} onInput={set('state')} size={12} list={stateChoices.length ? 'state-choices' : undefined} />
          {stateChoices.length > 0 && (
            <datalist id="state-choices">
              {stateChoices.map(([code]) => (
                <option key={code} value={code}>
                  {stateName(labels[form.definition], code)}
                </option>
              ))}
            </datalist>
          )}
        </label>
        <label>
          {t('assignee')}
          <select value={form.assignee} onChange={set('assignee')}>
            <option value="">{t('all')}</option>
            {['grid-worker', 'grid-leader', 'grid-part-time', 'grid-police', 'party-secretary', 'community-manager', 'street-office', 'partner'].map((r) => (
              <option key={r} value={r}>
                {roleName(r)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('levelLabel')}
          <select value={form.level} onChange={set('level')}>
            <option value="">{t('all')}</option>
            {(['grid', 'community', 'street'] as const).map((l) => (
              <option key={l} value={l}>
                {t(`level_${l}` as `level_${"grid" | "community" | "street"}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('startedFrom')}
          <input type="date" value={form.startedFrom} onInput={set('startedFrom')} />
        </label>
        <label>
          {t('startedTo')}
          <input type="date" value={form.startedTo} onInput={set('startedTo')} />
        </label>
        <label>
          {t('search')}
          <input type="search" value={form.q} onInput={set('q')} placeholder={t('searchHelp')} size={16} />
        </label>
        <label class="check">
          <input type="checkbox" checked={form.overdue === 'true'} onChange={set('overdue')} /> {t('onlyOverdue')}
        </label>
        <div class="actions">
          <button type="submit" class="primary">
            {t('apply')}
          </button>
          <button
            type="button"
            onClick={() => {
              setForm(Object.fromEntries(FILTERS.map((f) => [f, ''])) as typeof form);
              navigate('#/processes');
            }}
          >
            {t('reset')}
          </button>
        </div>
      </form>
      <Show of={list}>
        {(page) => {
          const items = [...page.items, ...(extra?.items ?? [])];
          const next = extra ? extra.next : page.nextCursor;
          return (
            <>
              <p role="status" class="muted">
                {t('results', { n: items.length })}
              </p>
              {items.length === 0 ? (
                <p>{t('none')}</p>
              ) : (
                <div class="table-wrap">
                  <table class="list">
                    <thead>
                      <tr>
                        <th scope="col">{t('businessKey')}</th>
                        <th scope="col">{t('definition')}</th>
                        <th scope="col">{t('grid')}</th>
                        <th scope="col">{t('stateLabel')}</th>
                        <th scope="col">{t('statusLabel')}</th>
                        <th scope="col">{t('due')}</th>
                        <th scope="col">{t('updated')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {items.map((p) => (
                        <tr key={p.workflowId} class={p.overdue ? 'overdue' : undefined} data-workflow-id={p.workflowId}>
                          <th scope="row">
                            <a href={processHref(p.workflowId)}>{p.businessKey ?? p.workflowId}</a>
                          </th>
                          <td title={defKey(p.definition)}>{titles.get(defKey(p.definition)) ?? defKey(p.definition)}</td>
                          <td title={p.grid ?? undefined}>{gridName(grids, p.grid)}</td>
                          <td title={p.state} data-state={p.state}>
                            {stateName(labels[defKey(p.definition)], p.state)}
                          </td>
                          <td>{statusName(p.status)}</td>
                          <td>
                            {when(p.dueAt)}
                            {p.overdue && <span class="badge warn">{t('overdueBadge')}</span>}
                          </td>
                          <td>{when(p.updatedAt)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
              {next && (
                <button type="button" onClick={() => void more(next)}>
                  {t('more')}
                </button>
              )}
              {moreError && <ErrorBox error={moreError} />}
            </>
          );
        }}
      </Show>
    </>
  );
}
