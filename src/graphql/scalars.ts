import { GraphQLSafeInt } from 'graphql-scalars';

/**
 * Counts that can exceed 2^31 (record counts, data volumes). JSON numbers are
 * exact up to 2^53, which no count of records comes near, so this stays a
 * number for clients rather than a string.
 */
export const SafeInt = GraphQLSafeInt;
