import { defaultFieldResolver, type GraphQLSchema } from 'graphql';
import type { MuluContext } from './context';
import type { Loaders } from './loaders';

/** Forgets every value this request's loaders have cached. */
export function clearLoaders(loaders: Loaders): void {
  for (const loader of Object.values(loaders)) loader.clearAll();
}

/**
 * Wraps the resolver of every root mutation field so the request's loaders
 * are cleared once it has written, before its selection is resolved. The
 * mutations of one document run one after another with the same loaders;
 * without this, `refreshMount { directory { department { mountStats } } }`
 * after a `mountDataset` in the same document would answer with the figures
 * the first mutation left in the cache. Only the root mutation fields are
 * wrapped, once, when the schema is built: no per-field middleware or Apollo
 * `willResolveField` hook, which would slow every field of every query (see
 * auth.guard.ts).
 */
export function clearLoadersAfterEachMutation(schema: GraphQLSchema): GraphQLSchema {
  const mutation = schema.getMutationType();
  for (const field of Object.values(mutation?.getFields() ?? {})) {
    const resolve = field.resolve ?? defaultFieldResolver;
    field.resolve = async (source, args, context: MuluContext, info) => {
      try {
        return await resolve(source, args, context, info);
      } finally {
        // Also after a failure: clearing is cheap, and then nobody has to reason about what a failed mutation wrote.
        if (context?.loaders) clearLoaders(context.loaders);
      }
    };
  }
  return schema;
}
