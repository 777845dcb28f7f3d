import { GraphQLSafeInt } from 'graphql-scalars';

/**
 * Counts that can exceed 2^31 (record counts, data volumes). JSON numbers are
 * exact up to 2^53, which no count of records comes near, so this stays a
 * number for clients rather than a string.
 */
export const SafeInt = GraphQLSafeInt;

/** Converts a PostgreSQL bigint/numeric (delivered as a string) to an exact JS number. */
export function toSafeNumber(value: string | number | bigint | null | undefined): number {
  if (value === null || value === undefined) return 0;
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`count ${value} is beyond 2^53`);
  return n;
}
