export { runProcess } from './run-process.workflow';
export { launchScheduled } from './launch-scheduled.workflow';
