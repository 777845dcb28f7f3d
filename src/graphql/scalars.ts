import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { GraphQLSafeInt } from 'graphql-scalars';
import { toCount, type Count } from '../core/numbers';

/**
 * Counts a steward cannot inflate (directories, items, records of one
 * sub-item): exact as JSON numbers up to 2^53.
 */
export const SafeInt = GraphQLSafeInt;

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
      throw new GraphQLError(`BigInt must be a whole number (a JSON number up to 2^53 − 1, or a string of digits), got ${JSON.stringify(value)}.`, {
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.INT && ast.kind !== Kind.STRING)
      throw new GraphQLError('BigInt must be a whole number or a string of digits.', { extensions: { code: 'BAD_USER_INPUT' } });
    try {
      return toCount(ast.value);
    } catch {
      throw new GraphQLError(`BigInt must be a whole number, got ${ast.value}.`, { extensions: { code: 'BAD_USER_INPUT' } });
    }
  },
});
