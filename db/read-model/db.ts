import type { MikroORM } from '@mikro-orm/postgresql';

/**
 * What every read-model function takes: the application's ORM. Each call forks its own entity
 * manager, so a function never shares an identity map with the caller or another request.
 */
export type ReadModelDb = Pick<MikroORM, 'em'>;

export function connection(db: ReadModelDb) {
  return db.em.fork().getConnection();
}

/** PostgreSQL answers bigint counts and numeric sums and means as text; null (nothing to count) is 0. */
export const count = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

/** A numeric mean or sum that is null when there was nothing to take it over. */
export const numberOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** `?, ?, ?` for a list of values (an empty list is the caller's to handle). */
export const placeholders = (values: readonly unknown[]): string => values.map(() => '?').join(', ');
