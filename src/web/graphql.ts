import { initGraphQLTada } from 'gql.tada';
import type { introspection } from './graphql-env.d.ts';

/**
 * GraphQL documents typed from schema/schema.graphql (generated into
 * graphql-env.d.ts at build time): a schema change that breaks a document
 * of the page breaks `npm run build` and `npm run typecheck`.
 */
export const graphql = initGraphQLTada<{
  introspection: introspection;
  disableMasking: true;
  scalars: { SafeInt: number; DateTimeISO: string; BigInt: number | string };
}>();
export type { ResultOf, VariablesOf } from 'gql.tada';
