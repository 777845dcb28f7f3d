import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { GraphQLSafeInt } from 'graphql-scalars';

/**
 * Counts a steward cannot inflate (directories, items, records of one
 * sub-item): exact as JSON numbers up to 2^53.
 */
export const SafeInt = GraphQLSafeInt;

/**
 * A count or a sum of counts that may go beyond 2^53 (data volumes summed up
 * to the province): a whole number, exact however large PostgreSQL's bigint
 * lets it be. In code a `Count` is a JS number while it is exact, and the
 * decimal digits as a string beyond.
 */
export type Count = number | string;

const WHOLE = /^-?\d{1,20}$/;

/** A PostgreSQL bigint/numeric (delivered as a string), a bigint or a safe number, as an exact Count. */
export function toCount(value: string | number | bigint | null | undefined): Count {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`count ${value} is not an exact whole number`);
    return value;
  }
  const text = typeof value === 'bigint' ? value.toString() : value.trim();
  if (!WHOLE.test(text)) throw new Error(`count "${text}" is not a whole number`);
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text).toString();
}

/** `a - b`, exact. */
export function subtractCounts(a: Count, b: Count): Count {
  return toCount(BigInt(a) - BigInt(b));
}

/** A sort comparator of counts, ascending, exact. */
export function compareCounts(a: Count, b: Count): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const d = BigInt(a) - BigInt(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/**
 * The GraphQL scalar of a Count (named BigInt, as in GitHub's API): a JSON
 * number while it is within ±(2^53 − 1), so every existing client reads
 * ordinary figures unchanged, and a string of decimal digits beyond, which
 * no JSON parser rounds. Clients that may see province-wide sums beyond
 * 9,007,199,254,740,991 read the value as a string or a big integer.
 */
export const BigCount = new GraphQLScalarType<Count, Count>({
  name: 'BigInt',
  description:
    'A whole number as large as a PostgreSQL bigint: a JSON number when within ±9007199254740991 (2^53 − 1), a string of decimal digits beyond. Accepted as either.',
  serialize: (value) => toCount(value as string | number | bigint),
  parseValue: (value) => {
    try {
      return toCount(value as string | number);
    } catch {
      throw new GraphQLError(`BigInt must be a whole number (a JSON number up to 2^53 − 1, or a string of digits), got ${JSON.stringify(value)}.`, { extensions: { code: 'BAD_USER_INPUT' } });
    }
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.INT && ast.kind !== Kind.STRING) throw new GraphQLError('BigInt must be a whole number or a string of digits.', { extensions: { code: 'BAD_USER_INPUT' } });
    try {
      return toCount(ast.value);
    } catch {
      throw new GraphQLError(`BigInt must be a whole number, got ${ast.value}.`, { extensions: { code: 'BAD_USER_INPUT' } });
    }
  },
});

/** Converts a PostgreSQL count that cannot be beyond 2^53 (directories, items) to a number; see toCount for sums. */
export function toSafeNumber(value: string | number | bigint | null | undefined): number {
  if (value === null || value === undefined) return 0;
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`count ${value} is beyond 2^53`);
  return n;
}
