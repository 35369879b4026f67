import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { patched, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { LaunchInput, LaunchResult } from './messages';

const { planLaunch } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});
// A district's fan-out (1,200 grids) took 25-42 s on 2 cores; a city's would outlast a fixed
// 2 minutes. The activity heartbeats while it starts, so a lost worker is noticed within a minute,
// and a retry finds what the first attempt started (business keys).
const { launchInstances } = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/** Launches recorded before calendar rules existed went straight to launchInstances. */
export const CALENDAR_RULE_PATCH = 'calendar-rule';

/** Set by Temporal on every workflow a Schedule starts: the time the run was scheduled for. */
const SCHEDULED_START = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/**
 * What a definition's Temporal Schedule starts: it fans out to one instance per grid (or one for
 * the community) through the same start path as the API.
 *
 * The calendar rule is applied to the time the run was scheduled for (not when a catch-up got to
 * it): the `planLaunch` activity answers run, skip or move, and its answer is in the history, so a
 * replay takes the same path whatever the calendar file says by then. A moved run sleeps on a
 * durable timer until the next working day at the same clock time, then starts the instances for
 * the day it was scheduled for. Business keys carry that day, so a schedule that fires twice, a
 * retried activity or an operator's second launch starts nothing twice.
 */
export async function launchScheduled(args: LaunchInput): Promise<LaunchResult> {
  if (!patched(CALENDAR_RULE_PATCH)) return launchInstances({ definition: args.definition, at: Date.now() });
  const scheduled = workflowInfo().typedSearchAttributes.get(SCHEDULED_START);
  const at = args.at ?? scheduled?.getTime() ?? Date.now();
  const plan = await planLaunch({ definition: args.definition, at });
  if (plan.action === 'skip') return { day: plan.day, started: [], existing: [], skipped: plan.reason };
  if (plan.action === 'run') return launchInstances({ definition: args.definition, at: plan.at, day: plan.day });
  const wait = plan.at - Date.now();
  if (wait > 0) await sleep(wait);
  return { ...(await launchInstances({ definition: args.definition, at: plan.at, day: plan.day })), moved: plan.reason };
}
