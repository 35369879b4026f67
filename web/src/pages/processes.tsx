import { useState } from 'preact/hooks';
import { get, qs } from '../api';
import { roleName, statusName, t, when } from '../i18n';
import { ErrorBox, PageTitle, Show, navigate, useLoad } from '../util';
import { loadDefinitions, loadGrids } from './common';
import { gridName, stateName, useGridNames, useLabels } from '../labels';
import { ColumnHeads, Select } from '../widgets';

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
          <Select value={form.definition} onChange={set('definition')} empty={t('all')} options={options.data?.[0].map((d) => ({ id: d.key, name: d.title }))} />
        </label>
        <label>
          {t('grid')}
          <Select value={form.grid} onChange={set('grid')} empty={t('all')} options={options.data?.[1]} />
        </label>
        <label>
          {t('statusLabel')}
          <Select value={form.status} onChange={set('status')} empty={t('all')} options={['running', 'completed', 'failed', 'cancelled'].map((s) => ({ id: s, name: statusName(s) }))} />
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
          <Select
            value={form.assignee}
            onChange={set('assignee')}
            empty={t('all')}
            options={['grid-worker', 'grid-leader', 'grid-part-time', 'grid-police', 'party-secretary', 'community-manager', 'street-office', 'partner'].map((r) => ({ id: r, name: roleName(r) }))}
          />
        </label>
        <label>
          {t('levelLabel')}
          <Select value={form.level} onChange={set('level')} empty={t('all')} options={(['grid', 'community', 'street'] as const).map((l) => ({ id: l, name: t(`level_${l}` as `level_${"grid" | "community" | "street"}`) }))} />
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
                    <ColumnHeads heads={[t('businessKey'), t('definition'), t('grid'), t('stateLabel'), t('statusLabel'), t('due'), t('updated')]} />
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
