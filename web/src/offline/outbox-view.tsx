import { useEffect, useState } from 'preact/hooks';
import { eventName, when } from '../i18n';
import { isOnline, onConnectionChange, outbox, probe, storageUse, type Action } from './field';
import { ft, megabytes, whyRefused } from './text';

/** Whether the page can reach the server now; re-renders on change. */
export function useOnline(): boolean {
  const [online, setOnline] = useState(isOnline());
  useEffect(() => onConnectionChange(() => setOnline(isOnline())), []);
  // The browser says online but requests got no answer (a captive portal, a dead lift shaft): ask now and then.
  useEffect(() => {
    if (online || !navigator.onLine) return;
    const timer = setInterval(() => void probe().then((ok) => ok && void outbox.kick(true)), 15_000);
    return () => clearInterval(timer);
  }, [online]);
  return online;
}

/** The queue as it changes; `onSettled` hears of each action that went through or was refused. */
export function useOutbox(onSettled?: (a: Action) => void): Action[] {
  const [actions, setActions] = useState<Action[]>(outbox.list());
  useEffect(
    () =>
      outbox.subscribe((list, settled) => {
        setActions(list);
        if (settled) onSettled?.(settled);
      }),
    [],
  );
  return actions;
}

/** "离线" with the time of the answer the page shows; nothing while online. */
export function OfflineBanner({ online, syncedAt, loading }: { online: boolean; syncedAt?: number; loading?: boolean }) {
  if (online) return null;
  const synced = syncedAt ? ft('lastSync', { time: when(new Date(syncedAt).toISOString(), { time: true }) }) : loading ? '' : ft('neverSynced');
  return (
    <div class="offline-banner" role="status" data-offline="true">
      <strong>{ft('offline')}</strong>
      {synced && <span class="synced"> · {synced}</span>}
      <p class="small">{ft('offlineHelp')}</p>
    </div>
  );
}

function StatusBadge({ a }: { a: Action }) {
  const cls = a.status === 'sent' ? 'badge ok' : a.status === 'refused' ? 'badge warn' : 'badge';
  return <span class={cls}>{ft(a.status)}</span>;
}

function QueuedItem({ a }: { a: Action }) {
  const time = (ms: number) => when(new Date(ms).toISOString(), { time: true });
  const detail = [a.data?.site, a.data?.category, a.data?.description].filter((x): x is string => typeof x === 'string' && x.length > 0).join(' · ');
  return (
    <li class={`queued ${a.status}`} data-action={a.id} data-status={a.status} data-type={a.type}>
      <p class="queued-head">
        <StatusBadge a={a} /> <strong>{eventName(a.type)}</strong> <span class="muted">{a.title}</span>
      </p>
      {detail && <p class="small">{detail}</p>}
      <p class="meta small">
        <span>{ft('takenAt', { time: time(a.createdAt) })}</span>
        {a.photos.length > 0 && <span> · {ft('photos', { n: a.photos.length })}</span>}
        {a.status === 'waiting' && a.nextAttemptAt > Date.now() && <span> · {ft('retryAt', { time: time(a.nextAttemptAt) })}</span>}
      </p>
      {a.photos.some((p) => p.thumb) && (
        <p class="thumbs">
          {a.photos.map((p, i) => p.thumb && <img key={i} src={p.thumb} alt={p.name} width={48} height={48} />)}
        </p>
      )}
      {a.status === 'waiting' && a.lastError && <p class="small muted">{ft('lastTry', { message: a.lastError })}</p>}
      {a.status === 'refused' && a.refusal && (
        <div class="refusal" role="alert">
          <p>
            <strong>{whyRefused(a.refusal.status)}</strong>：<span class="reason">{a.refusal.message}</span>
          </p>
          {a.maybeApplied && <p class="small">{ft('maybeApplied')}</p>}
          <button type="button" onClick={() => void outbox.dismiss(a.id)} aria-label={`${ft('dismiss')}: ${eventName(a.type)} ${a.title}`}>
            {ft('dismiss')}
          </button>
        </div>
      )}
    </li>
  );
}

/** Sent actions stay in the list a while, so the person sees them go, then make room. */
const SHOWN_SENT = 5;
const SHOWN_SENT_FOR = 3600_000;

/** The actions taken on this phone that wait, were refused or were sent lately, in the order they are sent. */
export function OutboxList({ actions: all, online }: { actions: Action[]; online: boolean }) {
  const [use, setUse] = useState<{ used: number; quota: number }>();
  const recent = all.filter((a) => a.status === 'sent' && Date.now() - (a.settledAt ?? 0) < SHOWN_SENT_FOR).slice(-SHOWN_SENT);
  const actions = all.filter((a) => a.status !== 'sent' || recent.includes(a));
  const waiting = actions.filter((a) => a.status === 'waiting' || a.status === 'sending');
  const photos = waiting.some((a) => a.photos.length > 0);
  useEffect(() => {
    if (photos) void storageUse().then(setUse);
  }, [photos, actions.length]);
  if (actions.length === 0) return null;
  return (
    <section aria-labelledby="outbox-h" class="outbox">
      <h2 id="outbox-h">
        {ft('outbox')} <small>{waiting.length > 0 ? `${ft('waiting')} ${waiting.length}` : ''}</small>
      </h2>
      {outbox.needsSignIn && (
        <p class="error" role="alert">
          {ft('signIn')}
        </p>
      )}
      <ul class="queue" aria-live="polite">
        {actions.map((a) => (
          <QueuedItem key={a.id} a={a} />
        ))}
      </ul>
      {waiting.length > 0 && online && (
        <button type="button" onClick={() => void outbox.kick(true)}>
          {ft('sendNow')}
        </button>
      )}
      {use && photos && <p class="small muted">{ft('storage', { used: megabytes(use.used), quota: megabytes(use.quota - use.used) })}</p>}
    </section>
  );
}
