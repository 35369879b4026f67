import type { CoverageStatus, Cycle, VisitPeriod } from './schedule-fanout';

/*
 * The special-population register as the API answers it: services/registry.service.ts builds these
 * and the console (web/src/pages/registry.tsx) reads them, by type only, so the two can not drift.
 */

/** The fields a register entry has both in a CSV row and as the server shows it. */
export interface EntryFields {
  household: string;
  category: string;
  grid: string;
  name: string;
  phone: string | null;
  idNumber: string | null;
  address: string;
  /** The entry's own cycle; null (left empty): the definition's cycle for the category. */
  cycle: VisitPeriod | null;
}

/** An entry as it leaves the server, personal fields masked. */
export interface EntryView extends EntryFields {
  id: string;
  since: string;
  active: boolean;
  updatedAt: string;
  updatedBy: string;
}

/** One entry's personal fields in clear: the audited reading. */
export type EntryPersonal = Pick<EntryView, 'id' | 'household' | 'name' | 'phone' | 'idNumber' | 'address'>;

export interface CoverageEntry {
  id: string;
  household: string;
  name: string;
  status: CoverageStatus;
  visitedOn?: string;
  workflowId?: string;
}

export interface CoverageCounts {
  total: number;
  visited: number;
  pending: number;
  overdue: number;
  /** visited / total; null when nobody is owed a visit. */
  rate: number | null;
}

export interface CoverageGroup extends CoverageCounts {
  grid: string;
  category: string;
  period: VisitPeriod;
  cycle: string;
  entries: CoverageEntry[];
}

/** 入户全覆盖 of one registry-driven definition in a cycle. */
export interface Coverage {
  definition: string;
  version: number;
  /** What was asked: a day, a week or a month. */
  cycle: string;
  today: string;
  /** The cycles the entries were judged in. */
  cycles: Partial<Record<VisitPeriod, Cycle>>;
  totals: CoverageCounts;
  groups: CoverageGroup[];
}
