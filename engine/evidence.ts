import { z } from 'zod';
import type { PathError } from './path-error';

/**
 * Evidence on events: which events take files (photos, PDFs) and how many, as a definition states
 * it. Files never travel through the engine or Temporal: an event carries references only,
 * `data.evidence: [{ sha256, name, type, size }]`, to files the API has stored.
 */

export const MAX_EVIDENCE_PER_EVENT = 20;

/** One event's rule: whether evidence is required and how many files at most. */
export const evidenceRule = z.strictObject({
  required: z.boolean().optional(),
  max: z.number().int().min(1).max(MAX_EVIDENCE_PER_EVENT).optional(),
  description: z.string().optional(),
});
export type EvidenceRule = z.infer<typeof evidenceRule>;

export interface EvidenceRef {
  sha256: string;
  name: string;
  type: string;
  size: number;
}

const SHA256 = /^[0-9a-f]{64}$/;
const DEFAULT_MAX = 5;

/** The most files `rule` allows (5 when it does not say). */
export const evidenceMax = (rule: EvidenceRule): number => rule.max ?? DEFAULT_MAX;

function checkRef(ref: unknown, path: string): PathError[] {
  if (typeof ref !== 'object' || ref === null || Array.isArray(ref)) return [{ path, message: 'must be a file reference { sha256, name, type, size } from POST /api/processes/:id/evidence' }];
  const r = ref as Record<string, unknown>;
  const errors: PathError[] = [];
  const unknown = Object.keys(r).filter((k) => !['sha256', 'name', 'type', 'size'].includes(k));
  if (unknown.length) errors.push({ path, message: `unknown field(s) ${unknown.map((k) => `"${k}"`).join(', ')}; a reference has sha256, name, type and size` });
  if (typeof r.sha256 !== 'string' || !SHA256.test(r.sha256)) errors.push({ path: `${path}.sha256`, message: 'must be the file\'s SHA-256 in 64 lower-case hex digits' });
  if (typeof r.name !== 'string' || r.name.length < 1 || r.name.length > 200) errors.push({ path: `${path}.name`, message: 'must be a file name of 1 to 200 characters' });
  if (typeof r.type !== 'string' || !/^[a-z]+\/[a-z0-9.+-]+$/.test(r.type)) errors.push({ path: `${path}.type`, message: 'must be a media type, e.g. "image/jpeg"' });
  if (typeof r.size !== 'number' || !Number.isInteger(r.size) || r.size < 1) errors.push({ path: `${path}.size`, message: 'must be the file size in bytes (a whole number above 0)' });
  return errors;
}

/**
 * Checks `data.evidence` of an event against the definition's rule for it: references only, no
 * more than the rule's `max`, at least one when `required`. An event without a rule takes none.
 */
export function checkEvidence(event: string, rule: EvidenceRule | undefined, evidence: unknown): PathError[] {
  if (!rule) {
    return evidence === undefined ? [] : [{ path: 'data.evidence', message: `event "${event}" takes no evidence; the definition's evidence block does not list it` }];
  }
  if (evidence === undefined || (Array.isArray(evidence) && evidence.length === 0)) {
    return rule.required ? [{ path: 'data.evidence', message: `event "${event}" requires evidence: at least one photo or file (upload it with POST /api/processes/:id/evidence and send the reference)` }] : [];
  }
  if (!Array.isArray(evidence)) return [{ path: 'data.evidence', message: 'must be a list of file references [{ sha256, name, type, size }]' }];
  const max = evidenceMax(rule);
  const errors: PathError[] = [];
  if (evidence.length > max) errors.push({ path: 'data.evidence', message: `event "${event}" takes at most ${max} file(s); got ${evidence.length}` });
  const seen = new Set<string>();
  evidence.forEach((ref, i) => {
    errors.push(...checkRef(ref, `data.evidence.${i}`));
    const sha = (ref as { sha256?: unknown })?.sha256;
    if (typeof sha === 'string') {
      if (seen.has(sha)) errors.push({ path: `data.evidence.${i}`, message: 'the same file twice; send each file once' });
      seen.add(sha);
    }
  });
  return errors;
}

/** The evidence references an event's data carries (none when it carries none or malformed ones). */
export function evidenceOf(data: Record<string, unknown> | undefined): EvidenceRef[] {
  const list = data?.evidence;
  return Array.isArray(list) ? (list.filter((r) => typeof r === 'object' && r !== null && typeof (r as EvidenceRef).sha256 === 'string') as EvidenceRef[]) : [];
}
