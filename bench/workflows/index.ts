// The bench worker's bundle: gridflow's own workflows and the hand-written baseline, side by side.
export { runProcess, launchScheduled } from '../../workflows';
export { handIssue } from './hand-issue.workflow';
