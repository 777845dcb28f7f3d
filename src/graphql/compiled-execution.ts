import type { ApolloServerOptionsWithGateway, BaseContext } from '@apollo/server';
import {
  execute,
  getNamedType,
  GraphQLError,
  isAbstractType,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  BREAK,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';

type Gateway = ApolloServerOptionsWithGateway<BaseContext>['gateway'];
type Executor = NonNullable<Awaited<ReturnType<Gateway['load']>>['executor']>;

/** How many compiled documents are kept (least recently used first out); a dashboard's client sends a handful. */
export const COMPILED_DOCUMENTS = 500;

/** How many documents seen once are remembered, so that a document is compiled only when it comes back. */
const SEEN_DOCUMENTS = 2_000;

/** What is kept for a document: its compiled query, or that graphql-jit could not compile it (graphql-js runs it). */
type Plan = CompiledQuery | 'interpreted';

/** A Map used as a least-recently-used list of at most `max` entries. */
class Recent<V> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly max: number) {}

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * graphql-jit's own error class has no `extensions` object when the thrown
 * error had none, where Apollo's error formatting reads `extensions.code`
 * (and fails, answering INTERNAL_SERVER_ERROR): the same error as graphql-js
 * would have made it, with the same message, path, locations and cause.
 */
function asGraphQLJsError(error: GraphQLError): GraphQLError {
  const made = new GraphQLError(error.message, {
    path: error.path,
    originalError: error.originalError ?? undefined,
    extensions: error.extensions ?? undefined,
  });
  (made as { locations?: GraphQLError['locations'] }).locations = error.locations;
  return made;
}

/** Introspection (the landing page) is rare and large to compile: graphql-js runs it, exactly as before. */
function asksForIntrospection(operation: OperationDefinitionNode): boolean {
  return operation.selectionSet.selections.some(
    (selection) => selection.kind === 'Field' && (selection.name.value === '__schema' || selection.name.value === '__type'),
  );
}

/**
 * Whether a field of the document returns an interface or union (`node`):
 * type-graphql's `resolveType` answers with a promise, which graphql-js
 * awaits and graphql-jit does not (it would answer that the type cannot be
 * resolved), so such documents run on graphql-js.
 */
function selectsAbstractType(schema: GraphQLSchema, document: DocumentNode): boolean {
  const typeInfo = new TypeInfo(schema);
  let found = false;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field() {
        const type = typeInfo.getType();
        if (type && isAbstractType(getNamedType(type))) {
          found = true;
          return BREAK;
        }
        return undefined;
      },
    }),
  );
  return found;
}

/**
 * Whether the document names an alias, a variable, a fragment or an
 * operation `__proto__`. graphql-jit's compiled code keeps answers by alias
 * and variables by name as keys of plain objects, where `__proto__` is the
 * prototype: a leaf aliased `__proto__` vanished from the answer, and a
 * variable `$__proto__` was never given to its argument (INTERNAL_SERVER_ERROR).
 * graphql-js keeps them in objects without a prototype, so such documents
 * run there. Other names (`constructor`, `toString`) are plain keys to both.
 */
function namesThePrototype(document: DocumentNode): boolean {
  let found = false;
  const check = (name: string | undefined) => {
    if (name !== '__proto__') return undefined;
    found = true;
    return BREAK;
  };
  visit(document, {
    Field: (node) => check(node.alias?.value),
    VariableDefinition: (node) => check(node.variable.name.value),
    FragmentDefinition: (node) => check(node.name.value),
    OperationDefinition: (node) => check(node.name?.value),
  });
  return found;
}

/**
 * Runs queries and mutations compiled by graphql-jit (a document's
 * selection set turned once into a JavaScript function that calls the same
 * resolvers), instead of graphql-js walking the document for every request:
 * a province dashboard resolves thousands of fields, and graphql-js pays a
 * promise, an argument lookup and a path object for each.
 *
 * Given to Apollo Server as a "gateway" (its interface for a custom
 * executor since Apollo Server 4): parsing, validation, every plugin hook,
 * formatError and the response cache run as before; only execution changes.
 * The same schema's resolvers run (with the deadline wrapper of
 * execution-budget.ts), so errors, limits and statement counts are those of
 * graphql-js.
 *
 * A document is compiled the second time it is seen (a document sent once,
 * as an attacker varying documents would, costs no compilation) and kept,
 * by its text and operation name, among the COMPILED_DOCUMENTS most recently
 * used. Documents graphql-jit cannot compile, introspection, documents
 * selecting an interface or union or naming anything `__proto__`, and
 * subscriptions run on graphql-js. Subscriptions over WebSocket
 * (websocket.ts) do not pass through here.
 */
export function compiledExecution(schema: GraphQLSchema, maxDocuments = COMPILED_DOCUMENTS) {
  const compiled = new Recent<Plan>(maxDocuments);
  const seen = new Recent<true>(SEEN_DOCUMENTS);
  const stats = { compiled: 0, interpreted: 0, runCompiled: 0 };

  const planFor = (document: DocumentNode, operation: OperationDefinitionNode, operationName: string | null, source: string): Plan => {
    if (operation.operation === 'subscription' || asksForIntrospection(operation)) return 'interpreted';
    const key = `${operationName ?? ''}\n${source}`;
    const known = compiled.get(key);
    if (known) return known;
    if (!seen.get(key)) {
      seen.set(key, true);
      return 'interpreted';
    }
    seen.delete(key);
    let plan: Plan;
    try {
      if (selectsAbstractType(schema, document)) throw new Error('an abstract type');
      if (namesThePrototype(document)) throw new Error('a name __proto__');
      const result = compileQuery(schema, document, operationName ?? undefined, { disablingCapturingStackErrors: true });
      plan = isCompiledQuery(result) ? result : 'interpreted';
    } catch {
      plan = 'interpreted';
    }
    if (plan === 'interpreted') stats.interpreted++;
    else stats.compiled++;
    compiled.set(key, plan);
    return plan;
  };

  const executor: Executor = async ({ document, operation, operationName, source, request, context }) => {
    const plan = planFor(document, operation, operationName, source);
    if (plan !== 'interpreted') {
      const result = (await plan.query(undefined, context, request.variables ?? {})) as ExecutionResult;
      // No data: the variables were refused before any resolver ran. graphql-js refuses them again, with the
      // errors (nodes, messages) that Apollo recognises as BAD_USER_INPUT.
      if (result.data !== undefined || !result.errors) {
        stats.runCompiled++;
        return result.errors ? { ...result, errors: result.errors.map(asGraphQLJsError) } : result;
      }
    }
    return execute({ schema, document, contextValue: context, variableValues: request.variables, operationName });
  };

  const gateway: Gateway = {
    async load() {
      return { schema, executor };
    },
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => undefined;
    },
    async stop() {},
  };
  return { gateway, stats: () => ({ ...stats, documents: compiled.size }) };
}
