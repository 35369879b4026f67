import { useState } from 'preact/hooks';
import { api, qs, type Me } from '../api';
import { currentLang, roleName } from '../i18n';
import { PageTitle, Show, navigate, useLoad } from '../util';
import { FormActions, Select } from '../widgets';
import { loadGrids } from './common';

/*
 * 值班表: one grid's week, who is on duty, who rests (轮休), who is on leave (请假) and who stands in
 * (代岗), and who takes the full-time worker's tasks each day. Managers and the grid's leader edit
 * it here (the API checks again and audits each change); the grid's staff may read it. The page's
 * strings live here.
 */

type Kind = 'duty' | 'rest' | 'leave';
type Why = 'no-rota' | 'worker' | 'stand-in' | 'cover' | 'nobody';

interface Staff {
  id: string;
  name: string;
  role: string;
}
interface Entry {
  member: string;
  kind: Kind;
  standIn: string | null;
  note: string | null;
  updatedBy: string;
  updatedAt: string;
}
interface Day {
  day: string;
  weekday: number;
  calendar: 'holiday' | 'make-up-workday' | 'weekend' | 'workday';
  entries: Entry[];
  onDuty: string[];
  away: { member: string; kind: 'rest' | 'leave'; standIn: string | null }[];
  worker: { member: string | null; why: Why; for?: string };
}
interface Rota {
  grid: string;
  from: string;
  to: string;
  mayEdit: boolean;
  editors: string;
  staff: Staff[];
  days: Day[];
}

/** Who may open the page from the menu: they edit; the grid's staff may still follow a link to read. */
export const ROTA_EDITORS: Me['role'][] = ['admin', 'manager', 'grid-leader'];
export const ROTA_READERS: Me['role'][] = [...ROTA_EDITORS, 'grid-worker'];

const STRINGS = {
  zh: {
    nav: '值班表',
    title: '网格值班表',
    grid: '网格',
    week: '{from} 至 {to}',
    previous: '上一周',
    thisWeek: '本周',
    next: '下一周',
    member: '人员',
    weekdays: ['周一', '周二', '周三', '周四', '周五', '周六', '周日'],
    calendar: { holiday: '法定节假日', 'make-up-workday': '调休上班', weekend: '周末', workday: '' } as Record<string, string>,
    kinds: { duty: '值班', rest: '轮休', leave: '请假' } as Record<string, string>,
    usual: '在岗',
    none: '—',
    standsIn: '代 {name}',
    standIn: '代岗人',
    noStandIn: '不指定',
    taskRow: '专职网格员任务由',
    why: { 'no-rota': '（照常）', worker: '', 'stand-in': '（代岗）', cover: '（顶岗）', nobody: '无人值班' } as Record<string, string>,
    nobodyNote: '当天无人值班：巡查未开展不计为缺巡。',
    edit: '编辑',
    editTitle: '编辑 {name} 的安排',
    kind: '安排',
    clear: '取消安排（照常）',
    from: '开始日期',
    to: '结束日期',
    note: '备注',
    save: '保存',
    cancel: '取消',
    saved: '已保存，变更 {n} 天。',
    readOnly: '您可以查看本网格的值班表；如需修改，请联系管理人员或网格长{leaders}。',
    caption: '{grid} {from} 至 {to} 值班安排',
  },
  en: {
    nav: 'Duty rota',
    title: 'Duty rota',
    grid: 'Grid',
    week: '{from} to {to}',
    previous: 'Previous week',
    thisWeek: 'This week',
    next: 'Next week',
    member: 'Member',
    weekdays: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'],
    calendar: { holiday: 'Public holiday', 'make-up-workday': 'Make-up workday', weekend: 'Weekend', workday: '' } as Record<string, string>,
    kinds: { duty: 'On duty', rest: 'Rest day', leave: 'On leave' } as Record<string, string>,
    usual: 'At work',
    none: '—',
    standsIn: 'for {name}',
    standIn: 'Stand-in',
    noStandIn: 'None',
    taskRow: "Worker's tasks go to",
    why: { 'no-rota': ' (as usual)', worker: '', 'stand-in': ' (stand-in)', cover: ' (covering)', nobody: 'Nobody on duty' } as Record<string, string>,
    nobodyNote: 'Nobody on duty that day: a patrol not walked is not counted as missed.',
    edit: 'Edit',
    editTitle: 'Edit the plan of {name}',
    kind: 'Plan',
    clear: 'No entry (as usual)',
    from: 'From',
    to: 'To',
    note: 'Note',
    save: 'Save',
    cancel: 'Cancel',
    saved: 'Saved; {n} day(s) changed.',
    readOnly: 'You may read this grid\'s rota; to change it, ask a manager or the grid leader {leaders}.',
    caption: 'Duty rota of {grid}, {from} to {to}',
  },
};
type Key = { [K in keyof (typeof STRINGS)['zh']]: (typeof STRINGS)['zh'][K] extends string ? K : never }[keyof (typeof STRINGS)['zh']];
const strings = () => STRINGS[currentLang()];
const s = (k: Key, vars: Record<string, string | number> = {}) => strings()[k].replace(/\{(\w+)\}/g, (m, n: string) => (n in vars ? String(vars[n]) : m));
export const rotaNavLabel = () => strings().nav;

function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

/** What a member does on a day, in words: the entry, else "at work" for the worker and nothing for others. */
function cellText(day: Day, m: Staff, name: (id: string) => string): string {
  const entry = day.entries.find((e) => e.member === m.id);
  const standing = day.away.filter((a) => a.standIn === m.id && !day.away.some((b) => b.member === m.id));
  const parts: string[] = [];
  if (entry) parts.push(strings().kinds[entry.kind] + (entry.standIn ? `（${s('standIn')}：${name(entry.standIn)}）` : ''));
  else if (m.role === 'grid-worker') parts.push(s('usual'));
  for (const a of standing) parts.push(s('standsIn', { name: name(a.member) }));
  return parts.join('；') || s('none');
}

interface Editing {
  member: Staff;
  day: string;
}

function EditForm({ rota, editing, onDone, onCancel }: { rota: Rota; editing: Editing; onDone: (changed: number) => void; onCancel: () => void }) {
  const entry = rota.days.find((d) => d.day === editing.day)?.entries.find((e) => e.member === editing.member.id);
  const [form, setForm] = useState({ kind: (entry?.kind ?? '') as Kind | '', from: editing.day, to: editing.day, standIn: entry?.standIn ?? '', note: entry?.note ?? '' });
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });
  const save = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setBusy(true);
    try {
      const path = `/api/rota/${encodeURIComponent(rota.grid)}/entries`;
      const result =
        form.kind === ''
          ? await api<{ changed: number }>('DELETE', `${path}${qs({ member: editing.member.id, from: form.from, to: form.to })}`)
          : await api<{ changed: number }>('PUT', path, {
              member: editing.member.id,
              from: form.from,
              to: form.to,
              kind: form.kind,
              ...(form.kind !== 'duty' && form.standIn ? { standIn: form.standIn } : {}),
              ...(form.note ? { note: form.note } : {}),
            });
      onDone(result.changed);
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  const id = (f: string) => `rota-edit-${f}`;
  return (
    <form class="card event-form" onSubmit={(e) => void save(e)} aria-labelledby={id('title')}>
      <h2 id={id('title')}>{s('editTitle', { name: editing.member.name })}</h2>
      <div class="row">
        <div class="field">
          <label for={id('kind')}>{s('kind')}</label>
          <Select id={id('kind')} value={form.kind} onChange={set('kind')} empty={s('clear')} options={(['duty', 'rest', 'leave'] as const).map((k) => ({ id: k, name: strings().kinds[k] }))} />
        </div>
        <div class="field">
          <label for={id('from')}>{s('from')}</label>
          <input id={id('from')} type="date" value={form.from} onInput={set('from')} required />
        </div>
        <div class="field">
          <label for={id('to')}>{s('to')}</label>
          <input id={id('to')} type="date" value={form.to} min={form.from} onInput={set('to')} required />
        </div>
        {(form.kind === 'rest' || form.kind === 'leave') && (
          <div class="field">
            <label for={id('standIn')}>{s('standIn')}</label>
            <Select
              id={id('standIn')}
              value={form.standIn}
              onChange={set('standIn')}
              empty={s('noStandIn')}
              options={rota.staff.filter((m) => m.id !== editing.member.id).map((m) => ({ id: m.id, name: `${m.name}（${roleName(m.role)}）` }))}
            />
          </div>
        )}
        {form.kind !== '' && (
          <div class="field">
            <label for={id('note')}>{s('note')}</label>
            <input id={id('note')} value={form.note} maxLength={200} onInput={set('note')} />
          </div>
        )}
      </div>
      <FormActions submit={s('save')} cancel={s('cancel')} onCancel={onCancel} busy={busy} error={error} />
    </form>
  );
}

function Week({ rota, gridName, onChanged }: { rota: Rota; gridName: string; onChanged: () => void }) {
  const [editing, setEditing] = useState<Editing>();
  const [saved, setSaved] = useState<string>();
  const name = (id: string) => rota.staff.find((m) => m.id === id)?.name ?? id;
  const dayHead = (d: Day) => `${strings().weekdays[d.weekday - 1]} ${d.day.slice(5)}`;
  return (
    <>
      {!rota.mayEdit && (
        <p class="muted" data-editors={rota.editors}>
          {s('readOnly', { leaders: rota.staff.filter((m) => m.role === 'grid-leader').map((m) => m.name).join('、') })}
        </p>
      )}
      <div class="table-wrap">
        <table class="compact rota">
          <caption>{s('caption', { grid: gridName, from: rota.from, to: rota.to })}</caption>
          <thead>
            <tr>
              <th scope="col">{s('member')}</th>
              {rota.days.map((d) => (
                <th scope="col" key={d.day} data-day={d.day}>
                  {dayHead(d)}
                  {strings().calendar[d.calendar] && <span class="badge">{strings().calendar[d.calendar]}</span>}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rota.staff.map((m) => (
              <tr key={m.id} data-member={m.id}>
                <th scope="row">
                  {m.name}
                  <div class="muted small">{roleName(m.role)}</div>
                </th>
                {rota.days.map((d) => (
                  <td key={d.day}>
                    <span>{cellText(d, m, name)}</span>
                    {rota.mayEdit && (
                      <div>
                        <button
                          type="button"
                          class="link"
                          aria-label={`${s('edit')} ${m.name} ${d.day}`}
                          onClick={() => {
                            setSaved(undefined);
                            setEditing({ member: m, day: d.day });
                          }}
                        >
                          {s('edit')}
                        </button>
                      </div>
                    )}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row">{s('taskRow')}</th>
              {rota.days.map((d) => (
                <td key={d.day} class={d.worker.why === 'nobody' ? 'warn' : undefined} title={d.worker.why === 'nobody' ? s('nobodyNote') : undefined}>
                  {d.worker.member ? `${name(d.worker.member)}${strings().why[d.worker.why]}` : strings().why.nobody}
                </td>
              ))}
            </tr>
          </tfoot>
        </table>
      </div>
      {rota.days.some((d) => d.worker.why === 'nobody') && <p class="muted small">{s('nobodyNote')}</p>}
      {saved && (
        <p role="status" class="ok">
          {saved}
        </p>
      )}
      {editing && (
        <EditForm
          key={`${editing.member.id}/${editing.day}`}
          rota={rota}
          editing={editing}
          onCancel={() => setEditing(undefined)}
          onDone={(n) => {
            setEditing(undefined);
            setSaved(s('saved', { n }));
            onChanged();
          }}
        />
      )}
    </>
  );
}

/** `#/rota?grid=grid-09&from=2026-12-07`: one grid's week. */
export function RotaPage({ query, me }: { query: URLSearchParams; me: Me }) {
  const grids = useLoad(() => loadGrids(), []);
  const gridParam = query.get('grid') ?? (me.grids !== 'all' ? me.grids[0] : undefined);
  const from = query.get('from') ?? undefined;
  const go = (next: { grid?: string; from?: string }) => navigate(`#/rota${qs({ grid: next.grid ?? gridParam, from: next.from })}`);
  return (
    <>
      <PageTitle>{s('title')}</PageTitle>
      <Show of={grids}>
        {(list) => {
          const grid = gridParam ?? list[0]?.id;
          return (
            <>
              <div class="filters">
                <label>
                  {s('grid')}
                  <Select value={grid} onChange={(e) => go({ grid: e.currentTarget.value, from })} options={list} />
                </label>
              </div>
              {grid ? <GridWeek key={`${grid}/${from ?? ''}`} grid={grid} gridName={list.find((g) => g.id === grid)?.name ?? grid} from={from} go={go} /> : null}
            </>
          );
        }}
      </Show>
    </>
  );
}

function GridWeek({ grid, gridName, from, go }: { grid: string; gridName: string; from?: string; go: (next: { grid?: string; from?: string }) => void }) {
  const rota = useLoad(() => api<Rota>('GET', `/api/rota/${encodeURIComponent(grid)}${qs({ from, to: from ? addDays(from, 6) : undefined })}`), [grid, from]);
  return (
    <Show of={rota}>
      {(r) => (
        <>
          <div class="buttons" role="group" aria-label={s('week', { from: r.from, to: r.to })}>
            <button type="button" onClick={() => go({ grid, from: addDays(r.from, -7) })}>
              {s('previous')}
            </button>
            <button type="button" onClick={() => go({ grid })}>
              {s('thisWeek')}
            </button>
            <button type="button" onClick={() => go({ grid, from: addDays(r.from, 7) })}>
              {s('next')}
            </button>
          </div>
          <Week rota={r} gridName={gridName} onChanged={rota.reload} />
        </>
      )}
    </Show>
  );
}
