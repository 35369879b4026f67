import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { LaunchInput, LaunchResult } from './messages';

const { launchInstances } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/**
 * What a definition's Temporal Schedule starts: it fans out to one instance per grid (or one for
 * the community) through the same start path as the API. Business keys carry the day, so a
 * schedule that fires twice starts nothing twice.
 */
export async function launchScheduled(args: LaunchInput): Promise<LaunchResult> {
  return launchInstances({ definition: args.definition, at: Date.now() });
}
