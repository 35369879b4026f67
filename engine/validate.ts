import { LineCounter, parseDocument } from 'yaml';
import { definitionDocument, type DefinitionDocument } from './document.schema';
import { checkAccessRules, checkEvidenceRules } from './checks/access';
import { createCheckContext, type CheckContext, type ValidationIssue } from './checks/context';
import { checkBusinessKey, checkContextKeys, checkDataSchemas, checkTemplatePlaceholders, checkTimeZones } from './checks/document';
import { checkStateMeta, checkTimerEventData } from './checks/meta';
import { describeIssue, SCHEMA_ROOT, type ZodIssue } from './checks/schema-issues';
import { checkReachability, checkStateIds, checkStateShapes, checkWaysOut } from './checks/states';
import { checkEventNames, checkStateActions, checkTransitions, checkUnhandledEvents } from './checks/transitions';
import { checkWithXState } from './checks/xstate';
import { checkLabels } from './labels';
import { checkScheduleFanOut } from './schedule-fanout';

export type { ValidationIssue } from './checks/context';
export { BUSINESS_KEY_PLACEHOLDERS } from './checks/document';

/**
 * Checks a definition document before it is published: its shape (the zod schema), then what the
 * schema can not see (targets, reachability, library references, times, templates). Every issue
 * has a dotted path into the document and a message that says what is wrong and what would do.
 */

export interface ValidationResult {
  valid: boolean;
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
  document?: DefinitionDocument;
}

/** Parses YAML or JSON text and validates it. YAML syntax errors come back as an error with path "$" and the line/column in the message. */
export function validateText(text: string): ValidationResult {
  const lines = new LineCounter();
  const parsed = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (parsed.errors.length) {
    const errors = parsed.errors.map((e) => {
      const { line, col } = lines.linePos(e.pos[0]);
      return { path: '$', message: `YAML syntax error at line ${line}, column ${col}: ${e.message}; write valid YAML (or JSON)` };
    });
    return { valid: false, errors, warnings: [] };
  }
  let value: unknown;
  try {
    value = parsed.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return { valid: false, errors: [{ path: '$', message: `YAML can not be read: ${(e as Error).message}; define anchors before their aliases` }], warnings: [] };
  }
  return validateDocument(value);
}

/** Validates an already-parsed value. */
export function validateDocument(value: unknown): ValidationResult {
  const parsed = definitionDocument.safeParse(value, { reportInput: true });
  if (!parsed.success) {
    const errors = (parsed.error.issues as unknown as ZodIssue[]).flatMap((i) => describeIssue(i, [], SCHEMA_ROOT));
    return { valid: false, errors, warnings: [] };
  }
  const { errors, warnings } = checkSemantics(parsed.data);
  return errors.length ? { valid: false, errors, warnings } : { valid: true, errors, warnings, document: parsed.data };
}

/** One semantic check: reads the document and the shared context, reports through ctx.error and ctx.warn. */
export type SemanticPhase = (ctx: CheckContext) => void;

/**
 * The semantic checks (what the schema can not see), in the order they report: tests read the
 * first error, so the order is part of the contract. Each phase lives in engine/checks/. A new
 * check is one more line in this list; checkWithXState stays last, as it runs only on a document
 * nothing else found wrong with.
 */
export const SEMANTIC_PHASES: readonly SemanticPhase[] = [
  // The document's own blocks.
  checkTimeZones,
  checkDataSchemas,
  checkBusinessKey,
  checkAccessRules,
  checkEvidenceRules,
  (ctx) => checkLabels(ctx.doc, ctx.error, ctx.warn),
  (ctx) => { for (const issue of checkScheduleFanOut(ctx.doc)) ctx.error(issue.path, issue.message); },
  checkContextKeys,
  checkTemplatePlaceholders,
  // States and transitions.
  checkStateIds,
  checkStateShapes,
  checkEventNames,
  checkTransitions,
  checkStateActions,
  // Tasks, reminders, escalations and timers.
  checkStateMeta,
  checkTimerEventData,
  // The machine as a whole.
  checkUnhandledEvents,
  checkWaysOut,
  checkReachability,
  checkWithXState,
];

function checkSemantics(doc: DefinitionDocument): { errors: ValidationIssue[]; warnings: ValidationIssue[] } {
  const ctx = createCheckContext(doc);
  for (const phase of SEMANTIC_PHASES) phase(ctx);
  return { errors: ctx.errors, warnings: ctx.warnings };
}
