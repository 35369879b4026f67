export { runProcess } from './run-process.workflow';
