import type { ApolloServerPlugin } from '@apollo/server';
import { getNamedType, getNullableType, isListType, type GraphQLSchema } from 'graphql';
import { getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';
import { MuluError } from '../core/errors';

/** Items a list without `first` is assumed to hold (children of a region, mounts of a directory). */
const ASSUMED_LIST_SIZE = 20;
/** Page size assumed when `first` is omitted (the connections' default). */
const DEFAULT_PAGE = 20;

/**
 * A page or list multiplies the cost of what is asked inside it, so that a
 * query nesting pages in pages (departments > directories > department >
 * directories ...) is refused before it runs rather than after it has
 * loaded the province.
 */
const listEstimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  if (field.args.some((arg) => arg.name === 'first')) {
    const first = typeof args.first === 'number' ? args.first : DEFAULT_PAGE;
    return 1 + childComplexity * Math.max(first, 1);
  }
  // A connection's edges are already counted by its `first`.
  if (field.name !== 'edges' && isListType(getNullableType(field.type)) && getNamedType(field.type).name !== 'String') {
    return 1 + childComplexity * ASSUMED_LIST_SIZE;
  }
  return undefined;
};

/** The estimated cost of an operation, in fields to resolve. */
export function queryCost(schema: GraphQLSchema, query: import('graphql').DocumentNode, variables: Record<string, unknown>, operationName?: string): number {
  return getComplexity({ schema, query, variables, operationName, estimators: [listEstimator, simpleEstimator({ defaultComplexity: 1 })] });
}

/** Refuses operations whose estimated cost exceeds `maximum`, before any resolver runs. */
export function queryCostLimit(maximum: number): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, schema }) {
          let cost: number;
          try {
            cost = queryCost(schema, document, request.variables ?? {}, request.operationName ?? undefined);
          } catch {
            // Variables that do not fit their types: execution reports that, as BAD_USER_INPUT.
            return;
          }
          if (cost > maximum) {
            throw new MuluError('BAD_USER_INPUT', `This query would cost ${cost} (fields times page sizes); the limit is ${maximum}. Ask for smaller pages or fewer nested lists.`, { cost, maximumCost: maximum });
          }
        },
      };
    },
  };
}
