import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, api, get, qs, savedToken, type Me } from '../api';
import type { Coverage, EntryPersonal, EntryView } from '../../../engine/registry-view';
import { currentLang } from '../i18n';
import { ErrorBox, PageTitle, Show, navigate, useLoad } from '../util';
import { ColumnHeads, FormActions, Select, choicesOf } from '../widgets';
import { loadGrids, pct, type GridInfo } from './common';
import { processHref } from './processes';

/*
 * 重点人群台账: the special-population register of the caller's grids, masked; one entry's personal
 * fields on request (audited), an edit form and a CSV or Excel upload for leaders and managers; and the
 * coverage view (入户全覆盖) of the registry-driven visit rounds. The page's strings live here.
 */

const CATEGORIES = ['低保', '低收入', '特困', '独居老人', '空巢老人', '留守儿童', '残疾人'];
const EDITORS: Me['role'][] = ['admin', 'manager', 'grid-leader'];

const STRINGS = {
  zh: {
    nav: '重点人群',
    title: '重点人群台账',
    coverageTitle: '入户走访覆盖',
    tabList: '台账',
    tabCoverage: '走访覆盖',
    grid: '网格',
    category: '类别',
    household: '户号',
    status: '状态',
    all: '全部',
    active: '在册',
    inactive: '已退出',
    apply: '查询',
    name: '姓名',
    phone: '联系电话',
    idNumber: '身份证号',
    address: '住址',
    cycle: '走访周期',
    since: '纳入日期',
    weekly: '每周',
    monthly: '每月',
    byDefinition: '按流程定义',
    actions: '操作',
    show: '查看',
    hide: '隐藏',
    shownAudited: '已显示明文，本次查看已记入审计日志。',
    edit: '编辑',
    save: '保存',
    cancel: '取消',
    saved: '已保存',
    none: '没有符合条件的记录',
    results: '共 {n} 条',
    more: '加载更多',
    upload: '导入 CSV/Excel',
    uploadHelp: '表头：户号、类别、网格、姓名、联系电话、身份证号、住址、走访周期、纳入日期、状态。可上传 Excel 工作簿（.xlsx，读取第一个工作表）或“CSV UTF-8（逗号分隔）”文件；整个文件全部通过校验才会导入，已有的户号+类别会被更新。',
    file: 'CSV 或 Excel 文件',
    importIt: '导入',
    imported: '已导入 {rows} 行：新增 {created}，更新 {updated}，未变 {unchanged}。',
    coverageCycle: '周期（日期、周如 2026-W49 或月如 2026-12）',
    total: '应访',
    visited: '已走访',
    pending: '待走访',
    overdue: '逾期未访',
    rate: '覆盖率',
    visitedOn: '走访日期',
    round: '走访流程',
    noDefinition: '尚未发布按台账走访的流程定义。',
    statusNames: { visited: '已走访', pending: '待走访', overdue: '逾期未访' } as Record<string, string>,
  },
  en: {
    nav: 'Registry',
    title: 'Special-population register',
    coverageTitle: 'Visit coverage',
    tabList: 'Register',
    tabCoverage: 'Coverage',
    grid: 'Grid',
    category: 'Category',
    household: 'Household',
    status: 'Status',
    all: 'All',
    active: 'Registered',
    inactive: 'Left',
    apply: 'Search',
    name: 'Name',
    phone: 'Phone',
    idNumber: 'ID number',
    address: 'Address',
    cycle: 'Visit cycle',
    since: 'Registered on',
    weekly: 'Weekly',
    monthly: 'Monthly',
    byDefinition: 'As the definition says',
    actions: 'Actions',
    show: 'Show',
    hide: 'Hide',
    shownAudited: 'Shown in clear; this reading is in the audit log.',
    edit: 'Edit',
    save: 'Save',
    cancel: 'Cancel',
    saved: 'Saved',
    none: 'No entries match',
    results: '{n} entries',
    more: 'Load more',
    upload: 'Import CSV/Excel',
    uploadHelp: 'Headers: 户号, 类别, 网格, 姓名, 联系电话, 身份证号, 住址, 走访周期, 纳入日期, 状态. Upload an Excel workbook (.xlsx, its first sheet is read) or a "CSV UTF-8" file; the file is imported only when every line passes, and an existing household and category is updated.',
    file: 'CSV or Excel file',
    importIt: 'Import',
    imported: 'Imported {rows} lines: {created} new, {updated} updated, {unchanged} unchanged.',
    coverageCycle: 'Cycle (a day, a week like 2026-W49 or a month like 2026-12)',
    total: 'Owed',
    visited: 'Visited',
    pending: 'Pending',
    overdue: 'Overdue',
    rate: 'Coverage',
    visitedOn: 'Visited on',
    round: 'Visit round',
    noDefinition: 'No definition visits the register yet.',
    statusNames: { visited: 'Visited', pending: 'Pending', overdue: 'Overdue' } as Record<string, string>,
  },
};
type Key = Exclude<keyof (typeof STRINGS)['zh'], 'statusNames'>;
const s = (key: Key, vars: Record<string, string | number> = {}) => STRINGS[currentLang()][key].replace(/\{(\w+)\}/g, (m, n: string) => (n in vars ? String(vars[n]) : m));
/** The menu's label, for main.tsx. */
export const registryNavLabel = () => s('nav');

const cycleName = (c: EntryView['cycle']) => (c === null ? s('byDefinition') : s(c));

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/**
 * The file as bytes, so the server can tell UTF-8 from GBK and a workbook from text; sent as a workbook
 * when it is a zip ("PK"), whatever its name says. api() sends JSON only, so this sends the credential
 * as it does: the token, or a session's CSRF cookie back.
 */
async function uploadFile(file: File): Promise<{ rows: number; created: number; updated: number; unchanged: number }> {
  const token = savedToken();
  const csrf = /(?:^|;\s*)(?:__Host-)?gridflow_csrf=([^;]+)/.exec(document.cookie)?.[1];
  const bytes = await file.arrayBuffer();
  const head = new Uint8Array(bytes, 0, Math.min(2, bytes.byteLength));
  const type = head[0] === 0x50 && head[1] === 0x4b ? XLSX : 'text/csv';
  const res = await fetch('/api/registry/import', {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': type, ...(token ? { authorization: `Bearer ${token}` } : csrf ? { 'X-CSRF-Token': decodeURIComponent(csrf) } : {}) },
    body: bytes,
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, body.title ?? res.statusText, body.detail ?? '', body.errors ?? [], body);
  return body;
}

function Upload({ onDone }: { onDone: () => void }) {
  const [file, setFile] = useState<File>();
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<string>();
  const [error, setError] = useState<Error>();
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    try {
      const r = await uploadFile(file);
      setResult(s('imported', r));
      onDone();
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card" onSubmit={(e) => void submit(e)} aria-labelledby="upload-h">
      <h2 id="upload-h">{s('upload')}</h2>
      <p class="muted small" id="upload-help">
        {s('uploadHelp')}
      </p>
      <div class="row">
        <label>
          {s('file')}
          <input type="file" accept={`.csv,.xlsx,text/csv,${XLSX}`} aria-describedby="upload-help" onChange={(e) => setFile(e.currentTarget.files?.[0])} />
        </label>
        <button type="submit" class="primary" disabled={!file || busy}>
          {s('importIt')}
        </button>
      </div>
      {result && (
        <p role="status" class="ok">
          {result}
        </p>
      )}
      {error && <ErrorBox error={error} />}
    </form>
  );
}

function EditForm({ entry, personal, onSaved, onCancel }: { entry: EntryView; personal: EntryPersonal; onSaved: (e: EntryView) => void; onCancel: () => void }) {
  const [form, setForm] = useState({ name: personal.name, phone: personal.phone ?? '', idNumber: personal.idNumber ?? '', address: personal.address, cycle: entry.cycle ?? '', since: entry.since, active: entry.active });
  const [error, setError] = useState<Error>();
  const set = (k: keyof typeof form) => (e: Event) => {
    const el = e.currentTarget as HTMLInputElement;
    setForm({ ...form, [k]: el.type === 'checkbox' ? el.checked : el.value });
  };
  const save = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      const body = { name: form.name, phone: form.phone || null, idNumber: form.idNumber || null, address: form.address, cycle: form.cycle || null, since: form.since, active: form.active };
      onSaved(await api<EntryView>('PUT', `/api/registry/${entry.id}`, body));
    } catch (err) {
      setError(err as Error);
    }
  };
  const id = (f: string) => `edit-${entry.id}-${f}`;
  return (
    <form class="event-form" onSubmit={(e) => void save(e)} aria-label={`${s('edit')} ${entry.household} ${entry.category}`}>
      {(['name', 'phone', 'idNumber', 'address'] as const).map((f) => (
        <div class="field" key={f}>
          <label for={id(f)}>{s(f)}</label>
          <input id={id(f)} value={form[f]} onInput={set(f)} required={f === 'name' || f === 'address'} />
        </div>
      ))}
      <div class="field">
        <label for={id('cycle')}>{s('cycle')}</label>
        <select id={id('cycle')} value={form.cycle} onChange={set('cycle')}>
          <option value="">{s('byDefinition')}</option>
          <option value="weekly">{s('weekly')}</option>
          <option value="monthly">{s('monthly')}</option>
        </select>
      </div>
      <div class="field">
        <label for={id('since')}>{s('since')}</label>
        <input id={id('since')} type="date" value={form.since} onInput={set('since')} required />
      </div>
      <label class="check">
        <input type="checkbox" checked={form.active} onChange={set('active')} /> {s('active')}
      </label>
      <FormActions submit={s('save')} cancel={s('cancel')} onCancel={onCancel} error={error} />
    </form>
  );
}

function EntryRow({ entry: initial, canEdit }: { entry: EntryView; canEdit: boolean }) {
  const [entry, setEntry] = useState(initial);
  const [personal, setPersonal] = useState<EntryPersonal>();
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<Error>();
  const reveal = async () => {
    try {
      setPersonal(await get<EntryPersonal>(`/api/registry/${entry.id}/personal`));
    } catch (err) {
      setError(err as Error);
    }
  };
  const shown = personal ?? entry;
  return (
    <>
      <tr class={entry.active ? undefined : 'muted'} data-household={entry.household}>
        <th scope="row">{entry.household}</th>
        <td>{entry.category}</td>
        <td>{entry.grid}</td>
        <td>{shown.name}</td>
        <td>{shown.phone ?? '—'}</td>
        <td>{shown.idNumber ?? '—'}</td>
        <td>{shown.address}</td>
        <td>{cycleName(entry.cycle)}</td>
        <td>{entry.since}</td>
        <td>{entry.active ? s('active') : s('inactive')}</td>
        <td>
          <div class="buttons">
            <button type="button" class="link" onClick={() => (personal ? setPersonal(undefined) : void reveal())} aria-label={`${personal ? s('hide') : s('show')} ${entry.household} ${entry.category}`}>
              {personal ? s('hide') : s('show')}
            </button>
            {canEdit && (
              <button
                type="button"
                class="link"
                onClick={() => {
                  // The form starts from the clear values, so opening it is an audited reading too.
                  void (personal ? Promise.resolve() : reveal()).then(() => setEditing(true));
                }}
                aria-label={`${s('edit')} ${entry.household} ${entry.category}`}
              >
                {s('edit')}
              </button>
            )}
          </div>
        </td>
      </tr>
      {(personal || error || editing) && (
        <tr>
          <td colSpan={11}>
            {personal && !editing && (
              <p role="status" class="muted small">
                {s('shownAudited')}
              </p>
            )}
            {error && <ErrorBox error={error} />}
            {editing && personal && (
              <EditForm
                entry={entry}
                personal={personal}
                onSaved={(e) => {
                  setEntry(e);
                  setPersonal(undefined);
                  setEditing(false);
                }}
                onCancel={() => setEditing(false)}
              />
            )}
          </td>
        </tr>
      )}
    </>
  );
}

/** The search form of both views: `children` (the fields), then 查询, which opens `route` with the form's values. */
function Filters({ label, route, form, children }: { label: string; route: string; form: Record<string, string>; children: ComponentChildren }) {
  return (
    <form
      class="filters"
      role="search"
      aria-label={label}
      onSubmit={(e) => {
        e.preventDefault();
        navigate(`${route}${qs(form)}`);
      }}
    >
      {children}
      <div class="actions">
        <button type="submit" class="primary">
          {s('apply')}
        </button>
      </div>
    </form>
  );
}

/** The grid and category filters, which both views have. */
function GridAndCategory({ form, set, grids }: { form: { grid: string; category: string }; set: (k: 'grid' | 'category') => (e: Event) => void; grids: GridInfo[] | undefined }) {
  return (
    <>
      <label>
        {s('grid')}
        <Select value={form.grid} onChange={set('grid')} empty={s('all')} options={grids} />
      </label>
      <label>
        {s('category')}
        <Select value={form.category} onChange={set('category')} empty={s('all')} options={choicesOf(CATEGORIES)} />
      </label>
    </>
  );
}

function RegisterList({ query, me }: { query: URLSearchParams; me: Me }) {
  const filters = { grid: query.get('grid') ?? '', category: query.get('category') ?? '', household: query.get('household') ?? '', active: query.get('active') ?? 'true' };
  const [form, setForm] = useState(filters);
  const [tick, setTick] = useState(0);
  const grids = useLoad(loadGrids, []);
  const list = useLoad(() => get<{ items: EntryView[]; total: number }>(`/api/registry${qs({ ...filters, active: filters.active === 'all' ? '' : filters.active, limit: 500 })}`), [query.toString(), tick]);
  const canEdit = EDITORS.includes(me.role);
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });
  return (
    <>
      <Filters label={s('title')} route="#/registry" form={form}>
        <GridAndCategory form={form} set={set} grids={grids.data} />
        <label>
          {s('household')}
          <input value={form.household} onInput={set('household')} size={12} />
        </label>
        <label>
          {s('status')}
          <select value={form.active} onChange={set('active')}>
            <option value="true">{s('active')}</option>
            <option value="false">{s('inactive')}</option>
            <option value="all">{s('all')}</option>
          </select>
        </label>
      </Filters>
      {canEdit && <Upload onDone={() => setTick((n) => n + 1)} />}
      <Show of={list}>
        {(page) => (
          <>
            <p role="status" class="muted">
              {s('results', { n: page.total })}
            </p>
            {page.items.length === 0 ? (
              <p>{s('none')}</p>
            ) : (
              <div class="table-wrap">
                <table class="list">
                  <ColumnHeads heads={(['household', 'category', 'grid', 'name', 'phone', 'idNumber', 'address', 'cycle', 'since', 'status', 'actions'] as const).map((k) => s(k))} />
                  <tbody>
                    {page.items.map((e) => (
                      <EntryRow key={`${e.id}-${tick}`} entry={e} canEdit={canEdit} />
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </>
        )}
      </Show>
    </>
  );
}

function CoverageView({ query }: { query: URLSearchParams }) {
  const filters = { cycle: query.get('cycle') ?? '', grid: query.get('grid') ?? '', category: query.get('category') ?? '' };
  const [form, setForm] = useState(filters);
  const grids = useLoad(loadGrids, []);
  const cov = useLoad(() => get<Coverage>(`/api/registry/coverage${qs(filters)}`), [query.toString()]);
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });
  const names = new Map((grids.data ?? []).map((g) => [g.id, g.name]));
  return (
    <>
      <Filters label={s('coverageTitle')} route="#/registry/coverage" form={form}>
        <label>
          {s('coverageCycle')}
          <input value={form.cycle} onInput={set('cycle')} placeholder="2026-W49" size={12} pattern="\d{4}-(W\d{2}|\d{2}|\d{2}-\d{2})" />
        </label>
        <GridAndCategory form={form} set={set} grids={grids.data} />
      </Filters>
      {cov.error instanceof ApiError && cov.error.status === 404 ? (
        <p>{s('noDefinition')}</p>
      ) : (
        <Show of={cov}>
          {(c) => (
            <>
              <div class="kpis" role="group" aria-label={`${c.definition} ${c.cycle}`}>
                {(['total', 'visited', 'pending', 'overdue'] as const).map((k) => (
                  <div class="kpi" key={k}>
                    <span class="n">{c.totals[k]}</span>
                    {s(k)}
                  </div>
                ))}
              </div>
              <p class="muted">
                {s('rate')}: {pct(c.totals.rate)}
              </p>
              {c.groups.length === 0 ? (
                <p>{s('none')}</p>
              ) : (
                c.groups.map((g) => (
                  <section class="card" key={`${g.grid}-${g.category}-${g.cycle}`} aria-labelledby={`cov-${g.grid}-${g.category}`} data-grid={g.grid} data-category={g.category}>
                    <h2 id={`cov-${g.grid}-${g.category}`}>
                      {names.get(g.grid) ?? g.grid} · {g.category} · {g.cycle}（{s(g.period)}）
                    </h2>
                    <p>
                      {s('visited')} {g.visited} / {s('total')} {g.total}，{s('pending')} {g.pending}，{s('overdue')} {g.overdue}（{s('rate')} {pct(g.rate)}）
                    </p>
                    <div class="table-wrap">
                      <table class="list">
                        <ColumnHeads heads={[s('household'), s('name'), s('status'), s('visitedOn'), s('round')]} />
                        <tbody>
                          {g.entries.map((e) => (
                            <tr key={e.id} class={e.status === 'overdue' ? 'overdue' : undefined} data-status={e.status}>
                              <th scope="row">{e.household}</th>
                              <td>{e.name}</td>
                              <td>
                                {STRINGS[currentLang()].statusNames[e.status] ?? e.status}
                                {e.status === 'overdue' && <span class="badge warn">!</span>}
                              </td>
                              <td>{e.visitedOn ?? '—'}</td>
                              <td>{e.workflowId ? <a href={processHref(e.workflowId)}>{e.workflowId}</a> : '—'}</td>
                            </tr>
                          ))}
                        </tbody>
                      </table>
                    </div>
                  </section>
                ))
              )}
            </>
          )}
        </Show>
      )}
    </>
  );
}

/** `#/registry` (the register) and `#/registry/coverage` (入户全覆盖). */
export function RegistryPage({ view, query, me }: { view?: string; query: URLSearchParams; me: Me }) {
  const coverage = view === 'coverage';
  return (
    <>
      <PageTitle>{coverage ? s('coverageTitle') : s('title')}</PageTitle>
      <nav class="buttons" aria-label={s('title')}>
        <a href="#/registry" aria-current={coverage ? undefined : 'page'}>
          {s('tabList')}
        </a>
        <a href="#/registry/coverage" aria-current={coverage ? 'page' : undefined}>
          {s('tabCoverage')}
        </a>
      </nav>
      {coverage ? <CoverageView query={query} /> : <RegisterList query={query} me={me} />}
    </>
  );
}
