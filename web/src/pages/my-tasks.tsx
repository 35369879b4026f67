import { useEffect, useRef, useState } from 'preact/hooks';
import { post, qs, stream, type Me } from '../api';
import { EventForm, choiceFields, choicesIn, hasFields, type EventSchema } from '../event-form';
import { t, when } from '../i18n';
import { eventLabel, stateName, type Labels } from '../labels';
import { ErrorBox, PageTitle, Show, useLoad } from '../util';
import type { EvidenceRule } from '../evidence';
import { cachedGet, outbox, ownerOf, rememberMe } from '../offline/field';
import { OfflineBanner, OutboxList, useOnline, useOutbox } from '../offline/outbox-view';
import { resizePhoto } from '../offline/photo';
import { ft } from '../offline/text';

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

// Everything the page reads comes through cachedGet: with the network it is the server's answer,
// kept on the phone; without it, the answer kept last time, so the forms still know their fields.

/** The event schemas and evidence rules of a task's definition (the workflow id starts with the definition's key). */
const eventSchemas = (owner: string, workflowId: string) =>
  cachedGet<{ events?: Record<string, EventSchema>; evidence?: Record<string, EvidenceRule>; labels?: Labels }>(owner, `/api/definitions/${encodeURIComponent(workflowId.split('/')[0])}`).then(
    ({ data: d }) => ({ events: d.events ?? {}, evidence: d.evidence ?? {}, labels: d.labels }),
    () => ({ events: {} as Record<string, EventSchema>, evidence: {} as Record<string, EvidenceRule>, labels: undefined }),
  );

/** The grid's name (shown for its id) and its site names, suggested at check-in. */
const gridInfo = (owner: string, grid: string | null): Promise<{ name: string | null; sites: string[] }> =>
  grid
    ? cachedGet<{ name: string; sites: { name: string }[] }>(owner, `/api/grids/${encodeURIComponent(grid)}`).then(({ data: g }) => ({ name: g.name, sites: g.sites.map((s) => s.name) }), () => ({ name: grid, sites: [] }))
    : Promise.resolve({ name: null, sites: [] });

/** A photo field on the phone: the camera (or the album), any image; it is made a JPEG on the phone. */
const PHOTO_ACCEPT = 'image/*';

function TaskCard({ task, owner, onChanged }: { task: Task; owner: string; onChanged: (message: string) => void }) {
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const info = useLoad(async () => {
    const { events: schemas, evidence, labels } = await eventSchemas(owner, task.workflowId);
    // Events whose fields offer the process's own values (a report's open issues) read its context.
    const offers = task.events.some((e) => Object.keys(choiceFields(schemas[e])).length > 0);
    const context = offers ? (await cachedGet<{ context: Record<string, unknown> }>(owner, `/api/processes/${encodeURIComponent(task.workflowId)}`)).data.context : undefined;
    const grid = await gridInfo(owner, task.grid);
    return { schemas, evidence, labels, sites: grid.sites, gridName: grid.name, context };
  }, [task.workflowId]);
  const labels = info.data?.labels;
  const done = (type: string, r: { state: string }) => onChanged(`${eventLabel(labels, type)} · ${t('done', { state: stateName(labels, r.state) })}`);
  const queued = (type: string) => onChanged(ft('queued', { event: eventLabel(labels, type) }));
  // Every action goes through the outbox: sent at once when the network is there, kept and sent in
  // order when it is not. Photos are made small first and travel with the action.
  const take = async (type: string, data: Record<string, unknown> | undefined, files: File[]) => {
    const photos = await Promise.all(files.map((f) => resizePhoto(f)));
    const r = await outbox.take({ workflowId: task.workflowId, title: task.title, type, data, photos });
    return r.sent;
  };
  const oneTap = async (type: string) => {
    setBusy(true);
    setError(undefined);
    try {
      const r = await take(type, undefined, []);
      if (r) done(type, r);
      else queued(type);
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
        {task.grid && <span title={task.grid}>{info.data?.gridName ?? task.grid}</span>} <span>{t('dueAt', { time: when(task.dueAt, { time: true, date: false }) })}</span>
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
              {eventLabel(labels, type)}
            </button>
          );
        })}
      </div>
      {open && (
        <EventForm
          path={`/api/processes/${encodeURIComponent(task.workflowId)}/events`}
          type={open}
          schema={info.data?.schemas[open]}
          labels={labels}
          suggestions={{ site: info.data?.sites ?? [] }}
          choices={choicesIn(info.data?.schemas[open], info.data?.context)}
          evidence={info.data?.evidence[open] ? { workflowId: task.workflowId, rule: info.data.evidence[open], accept: PHOTO_ACCEPT, help: ft('photoHelp') } : undefined}
          submitWith={take}
          onCancel={() => setOpen(null)}
          onDone={(r) => {
            const type = open;
            setOpen(null);
            done(type, r);
          }}
          onQueued={() => {
            const type = open;
            setOpen(null);
            queued(type);
          }}
        />
      )}
      {error && <ErrorBox error={error} />}
    </li>
  );
}

function Inbox({ owner }: { owner: string }) {
  const [items, setItems] = useState<Notice[]>([]);
  const [live, setLive] = useState(false);
  const first = useLoad(() => cachedGet<{ items: Notice[] }>(owner, `/api/notifications${qs({ member: 'me', limit: 50 })}`), []);
  useEffect(() => {
    if (first.data) setItems(first.data.data.items);
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
  const owner = ownerOf(me);
  const [message, setMessage] = useState<string>();
  const online = useOnline();
  const tasks = useLoad(() => cachedGet<{ items: Task[] }>(owner, `/api/tasks${qs({ assignee: me.member ? 'me' : undefined, status: 'open' })}`), [owner]);
  useEffect(() => {
    rememberMe(me);
    void outbox.open(owner).catch(() => undefined);
  }, [owner]);
  // An action sent from the queue moves its process on, a refusal says it had moved on without us:
  // either way, the tasks again.
  const actions = useOutbox((a) => {
    if (a.status === 'sent' && a.result) {
      const state = a.result.state;
      void eventSchemas(owner, a.workflowId).then(({ labels }) => setMessage(`${eventLabel(labels, a.type)} · ${t('done', { state: stateName(labels, state) })}`));
    }
    tasks.reload();
  });
  // Back online: the tasks again, fresh from the server.
  const wasOffline = useRef(false);
  useEffect(() => {
    if (!online) wasOffline.current = true;
    else if (wasOffline.current) {
      wasOffline.current = false;
      tasks.reload();
    }
  }, [online]);
  return (
    <div class="phone">
      <PageTitle>{t('myTasksTitle')}</PageTitle>
      <OfflineBanner online={online && tasks.data?.fresh !== false} syncedAt={tasks.data?.at} loading={tasks.loading} />
      <p role="status" class="ok" aria-live="polite">
        {message ?? ''}
      </p>
      <OutboxList actions={actions} online={online} />
      <section aria-labelledby="today-h">
        <h2 id="today-h">{t('today')}</h2>
        <Show of={tasks}>
          {({ data: page }) =>
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
                      owner={owner}
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
      <Inbox owner={owner} />
    </div>
  );
}
