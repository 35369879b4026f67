// The baseline's workflow bundle: only the hand-written issue workflow. The interpreter runs from
// its own production bundle (workflows/index.ts), so neither pays for the other's modules: the
// SDK instantiates a bundle's modules for every workflow it runs, which shows in memory and replay.
export { handIssue } from './hand-issue.workflow';
