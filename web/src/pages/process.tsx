import { useState } from 'preact/hooks';
import { get, type Me } from '../api';
import { MachineDiagram } from '../diagram';
import { EventForm, choicesIn, type EventSchema } from '../event-form';
import { EvidenceList, evidenceIn, type EvidenceRule } from '../evidence';
import { statusName, t, when } from '../i18n';
import { eventLabel, gridName, stateName, useGridNames, type Labels } from '../labels';
import { PageTitle, Show, useLoad } from '../util';
import { processHref, type Summary } from './processes';

interface Detail extends Summary {
  definitionVersion: number;
  live: boolean;
  temporalUrl?: string;
  context: Record<string, unknown>;
  accepts: string[];
  /** What the signed-in person may send now: the definition's access rules applied to them. */
  youMaySend?: string[];
  tasks: { state: string; role: string; assignee?: string; title: string; dueAt?: string | number; events: string[] }[];
  deadlines: { kind: string; id: string; at: string | number; stateId?: string; send?: string }[];
  children: string[];
  history: { seq: number; at: string; event: string; from: string | null; to: string; actor: string | null; late?: boolean; data?: Record<string, unknown> }[];
}

const asIso = (v: string | number | undefined) => (v === undefined ? undefined : typeof v === 'number' ? new Date(v).toISOString() : v);

export function ProcessPage({ id, me }: { id: string; me: Me }) {
  const [acting, setActing] = useState<string | null>(null);
  const data = useLoad(async () => {
    const detail = await get<Detail>(`/api/processes/${encodeURIComponent(id)}`);
    const def = await get<{ title: string; machine: unknown; events?: Record<string, EventSchema>; evidence?: Record<string, EvidenceRule>; labels?: Labels }>(`/api/definitions/${encodeURIComponent(String(detail.definition))}/versions/${detail.definitionVersion}`);
    return { detail, def };
  }, [id]);
  const canAct = me.role !== 'ops';
  const grids = useGridNames();

  return (
    <Show of={data}>
      {({ detail, def }) => {
        // Only what this person may send (the server applies the definition's rules to them).
        const mine = detail.youMaySend ?? [];
        const visited = [...new Set(detail.history.flatMap((h) => [h.from, h.to]).filter((s): s is string => Boolean(s)))];
        const labels = def.labels;
        // Names for people; the code in the tooltip (and next to events in the timeline) for operators.
        const state = (code: string | null) => (code ? <span title={code}>{stateName(labels, code)}</span> : '∅');
        return (
          <>
            <p>
              <a href="#/processes">← {t('back')}</a>
            </p>
            <PageTitle>
              {def.title}：{detail.businessKey ?? detail.workflowId}
            </PageTitle>
            <dl class="facts">
              <div>
                <dt>{t('statusLabel')}</dt>
                <dd>{statusName(detail.status)}</dd>
              </div>
              <div>
                <dt>{t('stateLabel')}</dt>
                <dd data-testid="current-state" data-state={detail.state} title={detail.state}>
                  {stateName(labels, detail.state)}
                </dd>
              </div>
              <div>
                <dt>{t('grid')}</dt>
                <dd title={detail.grid ?? undefined}>{gridName(grids, detail.grid)}</dd>
              </div>
              <div>
                <dt>{t('due')}</dt>
                <dd>
                  {when(detail.dueAt)}
                  {detail.overdue && <span class="badge warn">{t('overdueBadge')}</span>}
                </dd>
              </div>
              <div>
                <dt>{t('started')}</dt>
                <dd>{when(detail.startedAt)}</dd>
              </div>
              <div>
                <dt>{t('definition')}</dt>
                <dd>
                  <code>
                    {String(detail.definition)} v{detail.definitionVersion}
                  </code>
                  {detail.temporalUrl && (
                    <>
                      {' '}
                      <a href={detail.temporalUrl} target="_blank" rel="noreferrer">
                        {t('temporalLink')}
                      </a>
                    </>
                  )}
                </dd>
              </div>
            </dl>
            <section aria-labelledby="diagram-h" class="card">
              <h2 id="diagram-h">{t('diagram')}</h2>
              <MachineDiagram machine={def.machine} current={detail.state} visited={visited} title={def.title} labels={labels} />
            </section>
            <div class="grid2">
              <section aria-labelledby="timeline-h" class="card">
                <h2 id="timeline-h">{t('timeline')}</h2>
                <ol class="timeline">
                  {detail.history.map((h) => (
                    <li key={h.seq} class={h.late ? 'late' : undefined}>
                      <time dateTime={h.at}>{when(h.at)}</time> <strong>{eventLabel(labels, h.event)}</strong> <code>{h.event}</code>
                      <span class="muted">
                        {' '}
                        {state(h.from)} → {state(h.to)}
                        {h.actor ? ` · ${h.actor}` : ''}
                      </span>
                      {h.late && <span class="badge warn">{t('overdueBadge')}</span>}
                      <EvidenceList workflowId={detail.workflowId} files={evidenceIn(h.data)} />
                    </li>
                  ))}
                </ol>
              </section>
              <div>
                <section aria-labelledby="tasks-h" class="card">
                  <h2 id="tasks-h">{t('tasks')}</h2>
                  {detail.tasks.length === 0 ? (
                    <p class="muted">{t('noTasks')}</p>
                  ) : (
                    <ul class="plain">
                      {detail.tasks.map((task) => (
                        <li key={task.state + task.role}>
                          <strong>{task.title}</strong> · {task.assignee ?? task.role} · {t('dueAt', { time: when(asIso(task.dueAt)) })}
                        </li>
                      ))}
                    </ul>
                  )}
                </section>
                <section aria-labelledby="deadlines-h" class="card">
                  <h2 id="deadlines-h">{t('deadlines')}</h2>
                  {detail.deadlines.length === 0 ? (
                    <p class="muted">{t('noDeadlines')}</p>
                  ) : (
                    <ul class="plain">
                      {detail.deadlines.map((d) => (
                        <li key={`${d.kind}-${d.id}-${d.at}`}>
                          <time dateTime={asIso(d.at)}>{when(asIso(d.at))}</time> · {d.kind} · {d.send && `${eventLabel(labels, d.send)} `}<code>{d.send ?? d.id}</code>
                        </li>
                      ))}
                    </ul>
                  )}
                </section>
                {canAct && detail.status === 'running' && mine.length > 0 && (
                  <section aria-labelledby="act-h" class="card">
                    <h2 id="act-h">{t('accepts')}</h2>
                    <div class="buttons">
                      {mine.map((type) => (
                        <button type="button" key={type} aria-pressed={acting === type} onClick={() => setActing(acting === type ? null : type)}>
                          {eventLabel(labels, type)}
                        </button>
                      ))}
                    </div>
                    {acting && (
                      <EventForm
                        path={`/api/processes/${encodeURIComponent(detail.workflowId)}/events`}
                        type={acting}
                        schema={def.events?.[acting]}
                        labels={labels}
                        choices={choicesIn(def.events?.[acting], detail.context)}
                        evidence={def.evidence?.[acting] ? { workflowId: detail.workflowId, rule: def.evidence[acting] } : undefined}
                        onCancel={() => setActing(null)}
                        onDone={() => {
                          setActing(null);
                          data.reload();
                        }}
                      />
                    )}
                  </section>
                )}
                {detail.children.length > 0 && (
                  <section aria-labelledby="children-h" class="card">
                    <h2 id="children-h">{t('processesTitle')}</h2>
                    <ul class="plain">
                      {detail.children.map((c) => (
                        <li key={c}>
                          <a href={processHref(c)}>{c}</a>
                        </li>
                      ))}
                    </ul>
                  </section>
                )}
              </div>
            </div>
          </>
        );
      }}
    </Show>
  );
}
