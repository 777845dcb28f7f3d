/** A page of rows in id order, as services return it. */
export interface Page<T> {
  items: T[];
  hasNextPage: boolean;
}

/**
 * Largest id of a paged or globally identified row: their keys are PostgreSQL
 * `serial` (integer) columns. A larger number cannot name a row, and sent to
 * PostgreSQL it fails the statement ("out of range for type integer").
 */
export const MAX_ROW_ID = 2_147_483_647;

/** Keyset page request: `first` rows with id greater than `afterId`. */
export interface PageRequest {
  first: number;
  afterId: number;
}

/** Splits off the extra row fetched to learn whether a next page exists. */
export function toPage<T>(rows: T[], first: number): Page<T> {
  return { items: rows.slice(0, first), hasNextPage: rows.length > first };
}
