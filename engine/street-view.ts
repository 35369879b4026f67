/*
 * The street's view of its communities as the API answers it (`GET /api/street`):
 * services/street.service.ts builds it and the console (web/src/pages/street.tsx) reads it, by
 * type only, so the two cannot drift.
 */

/** One community as the street office sees it. */
export interface CommunityFigures {
  id: string;
  name: string;
  street: { id: string; name: string };
  grids: number;
  households: number;
  running: number;
  overdue: number;
  /** Issues still open, and those of them escalated to the street (`context.level = street`). */
  openIssues: number;
  escalatedToStreet: number;
  /** The month's ranking of its grids: confirmed by its review, or provisional. */
  evaluation: { source: 'confirmed' | 'provisional'; gridsScored: number; meanTotal: number | null };
  /** Rank between the communities listed, by meanTotal (equal ones share a rank); null without a score. */
  rank: number | null;
}
