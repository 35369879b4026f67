import { useEffect, useState } from 'preact/hooks';
import { get, post, qs, stream, type Me } from '../api';
import { EventForm, choiceFields, choicesIn, hasFields, type EventSchema } from '../event-form';
import { eventName, t, when } from '../i18n';
import { ErrorBox, PageTitle, Show, useLoad } from '../util';
import { once } from './common';
import type { EvidenceRule } from '../evidence';

interface Task {
  id: string;
  workflowId: string;
  title: string;
  grid: string | null;
  role: string;
  assignee: string | null;
  dueAt: string | null;
  overdue: boolean;
  events: string[];
}
interface Notice {
  id: string;
  at: string;
  kind: string;
  title: string;
  body: string;
  workflowId: string | null;
  readAt: string | null;
}

/** The event schemas and evidence rules of a task's definition (the workflow id starts with the definition's key). */
const eventSchemas = (workflowId: string) =>
  once<{ events: Record<string, EventSchema>; evidence: Record<string, EvidenceRule> }>(`/api/definitions/${encodeURIComponent(workflowId.split('/')[0])}`, (d) => ({ events: d.events ?? {}, evidence: d.evidence ?? {} })).catch(() => ({ events: {} as Record<string, EventSchema>, evidence: {} as Record<string, EvidenceRule> }));

/** The grid's site names, suggested at check-in. */
const gridSites = (grid: string | null) =>
  grid ? once<string[]>(`/api/grids/${encodeURIComponent(grid)}`, (g) => g.sites.map((s: { name: string }) => s.name)).catch((): string[] => []) : Promise.resolve([]);

function TaskCard({ task, onChanged }: { task: Task; onChanged: (message: string) => void }) {
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const info = useLoad(async () => {
    const { events: schemas, evidence } = await eventSchemas(task.workflowId);
    // Events whose fields offer the process's own values (a report's open issues) read its context.
    const offers = task.events.some((e) => Object.keys(choiceFields(schemas[e])).length > 0);
    const context = offers ? (await get<{ context: Record<string, unknown> }>(`/api/processes/${encodeURIComponent(task.workflowId)}`)).context : undefined;
    return { schemas, evidence, sites: await gridSites(task.grid), context };
  }, [task.workflowId]);
  const path = `/api/tasks/${encodeURIComponent(task.id)}/complete`;
  const oneTap = async (type: string) => {
    setBusy(true);
    setError(undefined);
    try {
      const r = await post<{ state: string }>(path, { type, requestId: crypto.randomUUID() });
      onChanged(`${eventName(type)} · ${t('done', { state: r.state })}`);
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  const headingId = `task-${task.id}`;
  return (
    <li class={task.overdue ? 'task overdue' : 'task'} aria-labelledby={headingId} data-task={task.id}>
      <h3 id={headingId}>{task.title}</h3>
      <p class="meta">
        {task.grid && <span>{task.grid}</span>} <span>{t('dueAt', { time: when(task.dueAt, { time: true, date: false }) })}</span>
        {task.overdue && <span class="badge warn">{t('overdueBadge')}</span>}
      </p>
      <div class="buttons big">
        {task.events.map((type) => {
          const schema = info.data?.schemas[type];
          const needsForm = (hasFields(schema) && (schema?.required?.length ?? 0) > 0) || info.data?.evidence[type] !== undefined;
          return (
            <button
              type="button"
              key={type}
              class={type === 'SUBMIT' || type === 'START' ? 'primary' : undefined}
              disabled={busy || info.loading}
              aria-expanded={needsForm ? open === type : undefined}
              onClick={() => (needsForm ? setOpen(open === type ? null : type) : void oneTap(type))}
            >
              {eventName(type)}
            </button>
          );
        })}
      </div>
      {open && (
        <EventForm
          path={path}
          type={open}
          schema={info.data?.schemas[open]}
          suggestions={{ site: info.data?.sites ?? [] }}
          choices={choicesIn(info.data?.schemas[open], info.data?.context)}
          evidence={info.data?.evidence[open] ? { workflowId: task.workflowId, rule: info.data.evidence[open] } : undefined}
          onCancel={() => setOpen(null)}
          onDone={(r) => {
            const type = open;
            setOpen(null);
            onChanged(`${eventName(type)} · ${t('done', { state: r.state })}`);
          }}
        />
      )}
      {error && <ErrorBox error={error} />}
    </li>
  );
}

function Inbox() {
  const [items, setItems] = useState<Notice[]>([]);
  const [live, setLive] = useState(false);
  const first = useLoad(() => get<{ items: Notice[] }>(`/api/notifications${qs({ member: 'me', limit: 50 })}`), []);
  useEffect(() => {
    if (first.data) setItems(first.data.items);
  }, [first.data]);
  useEffect(
    () =>
      stream(
        '/api/notifications/stream',
        (event, data) => {
          if (event === 'notification') setItems((xs) => (xs.some((x) => x.id === data.id) ? xs : [data as Notice, ...xs]));
        },
        setLive,
      ),
    [],
  );
  const [markError, setMarkError] = useState<Error>();
  const markRead = async (id: string) => {
    setMarkError(undefined);
    try {
      const r = await post<Notice>(`/api/notifications/${encodeURIComponent(id)}/read`);
      setItems((xs) => xs.map((x) => (x.id === id ? { ...x, readAt: r.readAt ?? new Date().toISOString() } : x)));
    } catch (e) {
      setMarkError(e as Error);
    }
  };
  return (
    <section aria-labelledby="inbox-h" class="inbox">
      <h2 id="inbox-h">
        {t('inbox')} <small class={live ? 'ok' : 'muted'}>{live ? t('live') : t('offline')}</small>
      </h2>
      {first.error && <ErrorBox error={first.error} retry={first.reload} />}
      {markError && <ErrorBox error={markError} />}
      <ul class="notices" aria-live="polite" aria-relevant="additions">
        {items.length === 0 && <li class="muted">{t('noInbox')}</li>}
        {items.map((n) => (
          <li key={n.id} class={n.readAt ? 'notice read' : 'notice'} data-notice={n.id}>
            <p class="notice-title">
              {!n.readAt && <span class="badge">{t('unread')}</span>} <strong>{n.title}</strong>
            </p>
            <p>{n.body}</p>
            <p class="meta">
              <time dateTime={n.at}>{when(n.at)}</time>
              {!n.readAt && (
                <button type="button" class="link" onClick={() => void markRead(n.id)} aria-label={`${t('markRead')}: ${n.title}`}>
                  {t('markRead')}
                </button>
              )}
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function MyTasks({ me }: { me: Me }) {
  const [message, setMessage] = useState<string>();
  const tasks = useLoad(() => get<{ items: Task[] }>(`/api/tasks${qs({ assignee: me.member ? 'me' : undefined, status: 'open' })}`), []);
  return (
    <div class="phone">
      <PageTitle>{t('myTasksTitle')}</PageTitle>
      <p role="status" class="ok" aria-live="polite">
        {message ?? ''}
      </p>
      <section aria-labelledby="today-h">
        <h2 id="today-h">{t('today')}</h2>
        <Show of={tasks}>
          {(page) =>
            page.items.length === 0 ? (
              <p class="muted">{t('noMyTasks')}</p>
            ) : (
              <ul class="tasks">
                {[...page.items]
                  .sort((a, b) => String(a.dueAt ?? '9').localeCompare(String(b.dueAt ?? '9')))
                  .map((task) => (
                    <TaskCard
                      key={task.id}
                      task={task}
                      onChanged={(m) => {
                        setMessage(m);
                        tasks.reload();
                      }}
                    />
                  ))}
              </ul>
            )
          }
        </Show>
      </section>
      <Inbox />
    </div>
  );
}
