import type { MikroORM } from '@mikro-orm/postgresql';
import type { Request, RequestHandler } from 'express';
import {
  getArgumentValues,
  getNamedType,
  getVariableValues,
  isLeafType,
  Kind,
  parse,
  specifiedRules,
  validate,
  type FieldNode,
  type GraphQLField,
  type GraphQLLeafType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ParseOptions,
  type SelectionSetNode,
  type ValidationRule,
} from 'graphql';
import type { Authenticator } from '../auth/authenticator';
import { createContext } from '../../graphql/context';
import { jsonSizeUpTo, responseTooLarge, timeBudgetExceeded } from '../../graphql/execution-budget';
import { httpHeadersFor, httpStatusForCodes, sqlStateOf } from '../../core/errors';
import { cleanTextArgument } from '../../graphql/input-hygiene';
import { listBounds, queryCost } from '../../graphql/query-cost';
import { RESPONSE_CACHE_HEADER } from '../../graphql/response-cache';
import { plainAnswerContentType, plainGraphQLRequest, sendAnswer } from '../../graphql/direct-answer';
import type { Viewer } from '../../core/viewer';
import { currentObservation, observeErrorCode, operationNameOf } from '../../observability/request-observation';
import { deliveryService, type RowPage } from './delivery.service';
import { DEFAULT_ROWS_PAGE, rowConnection } from './sharing.resolver';

/** A field of the page's answer, in the document's order: its name, how its value is written (a leaf) or what is asked of it. */
interface AskedField {
  name: string;
  leaf?: GraphQLLeafType;
  fields?: AskedField[];
}

/** A document the direct path answers: `directory(code:) { rows(first:, after:) { ... } }`, nothing else. */
interface RowPagePlan {
  operation: OperationDefinitionNode;
  directoryField: GraphQLField<unknown, unknown>;
  directoryNode: FieldNode;
  rowsField: GraphQLField<unknown, unknown>;
  rowsNode: FieldNode;
  /** What the query asks of the connection. */
  asked: AskedField[];
}

/** Documents seen, by operation name and text: their plan, or null for any other document (Apollo runs it). */
const PLANS_KEPT = 200;

/**
 * The longest document and operation name the direct path looks at, in characters: a page's document is a few hundred.
 * A longer one goes to Apollo unread, so that the kept plans' keys never hold more than PLANS_KEPT times this.
 */
const MAX_PLANNED_CHARS = 4096;

/** What the direct path needs of the app: the same checks Apollo makes, and the same caller. */
export interface RowPageDirectOptions {
  schema: GraphQLSchema;
  orm: MikroORM;
  authenticator: Authenticator;
  /** Who sent the request (http/caller.ts); a refusal goes on to Apollo, which answers it. */
  identify(req: Request): Promise<Viewer | null>;
  /** Apollo's validation rules besides graphql-js's own (the shape limits: limits.ts), and its parse options. */
  validationRules: readonly ValidationRule[];
  parseOptions: ParseOptions;
  /** The cost limit (query-cost.ts) and the response cap (execution-budget.ts). */
  maxCost: number;
  maxResponseBytes: number;
  /** The request's time budget (execution-budget.ts), named in the answer to a page whose statement timed out. */
  requestTimeoutMs: number;
  stallMs: number;
  /** Headers every GraphQL answer carries besides the cache's (the statement counter's). */
  headers?: () => Iterable<[string, string]>;
}

/**
 * The selection asked of a connection, when it holds only fields the direct
 * path writes (no alias, directive, fragment, argument or `__typename`): the
 * connection's version, edges (cursor, node's rowNumber and values) and
 * pageInfo. Undefined for anything else.
 */
function askedFields(type: GraphQLObjectType, selectionSet: SelectionSetNode | undefined): AskedField[] | undefined {
  if (!selectionSet) return undefined;
  const asked: AskedField[] = [];
  const seen = new Set<string>();
  for (const selection of selectionSet.selections) {
    if (selection.kind !== Kind.FIELD || selection.alias || selection.directives?.length || selection.arguments?.length) return undefined;
    const name = selection.name.value;
    const field = type.getFields()[name];
    if (!field || seen.has(name)) return undefined;
    seen.add(name);
    const named = getNamedType(field.type);
    if (isLeafType(named)) {
      if (selection.selectionSet) return undefined;
      asked.push({ name, leaf: named });
      continue;
    }
    const fields = askedFields(named as GraphQLObjectType, selection.selectionSet);
    if (!fields) return undefined;
    asked.push({ name, fields });
  }
  return asked;
}

const ROW_PAGE_TYPES = new Set(['DatasetRowConnection', 'DatasetRowEdge', 'DatasetRow', 'PageInfo']);

/**
 * The plan of a document that asks one page of rows and nothing else, or
 * null. Parsed and validated as Apollo does (graphql-js's rules and the
 * shape limits); any document that is not exactly that shape, or that
 * Apollo would refuse, is left to Apollo.
 */
function planOf(options: RowPageDirectOptions, query: string, operationName: string | null | undefined): RowPagePlan | null {
  let document;
  try {
    document = parse(query, options.parseOptions);
  } catch {
    return null;
  }
  if (document.definitions.length !== 1) return null;
  const operation = document.definitions[0];
  if (operation.kind !== Kind.OPERATION_DEFINITION || operation.operation !== 'query' || operation.directives?.length) return null;
  if (operationName != null && operation.name?.value !== operationName) return null;
  if (validate(options.schema, document, [...specifiedRules, ...options.validationRules]).length > 0) return null;
  const [directoryNode] = operation.selectionSet.selections;
  if (operation.selectionSet.selections.length !== 1 || directoryNode.kind !== Kind.FIELD || directoryNode.name.value !== 'directory') return null;
  if (directoryNode.alias || directoryNode.directives?.length || directoryNode.selectionSet?.selections.length !== 1) return null;
  const [rowsNode] = directoryNode.selectionSet.selections;
  if (rowsNode.kind !== Kind.FIELD || rowsNode.name.value !== 'rows' || rowsNode.alias || rowsNode.directives?.length) return null;
  // A filter is checked against the items granted, with a statement of its own: such pages go through Apollo.
  if (rowsNode.arguments?.some((argument) => argument.name.value !== 'first' && argument.name.value !== 'after')) return null;
  const directoryField = options.schema.getQueryType()?.getFields().directory;
  const directoryType = directoryField && getNamedType(directoryField.type);
  const rowsField = directoryType && 'getFields' in directoryType ? directoryType.getFields().rows : undefined;
  const connection = rowsField && getNamedType(rowsField.type);
  if (!directoryField || !rowsField || connection?.name !== 'DatasetRowConnection') return null;
  const asked = askedFields(connection as GraphQLObjectType, rowsNode.selectionSet);
  if (!asked || !everyType(connection as GraphQLObjectType, asked)) return null;
  return { operation, directoryField, directoryNode, rowsField, rowsNode, asked };
}

/** Whether every object asked for is one the direct path knows how rows answer it (not a type added to the connection later). */
function everyType(type: GraphQLObjectType, asked: AskedField[]): boolean {
  if (!ROW_PAGE_TYPES.has(type.name)) return false;
  return asked.every((field) => {
    if (!field.fields) return true;
    const inner = getNamedType(type.getFields()[field.name].type) as GraphQLObjectType;
    return everyType(inner, field.fields);
  });
}

/** The value of `asked` fields of `value`, as GraphQL completes them: objects in the document's order, leaves through their scalar's serialize. */
function answerOf(value: unknown, asked: AskedField[]): unknown {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map((item) => answerOf(item, asked));
  const out: Record<string, unknown> = {};
  const object = value as Record<string, unknown>;
  for (const field of asked) {
    const inner = object[field.name];
    out[field.name] = field.leaf ? (inner === null || inner === undefined ? null : field.leaf.serialize(inner)) : answerOf(inner, field.fields!);
  }
  return out;
}

/**
 * A page of rows (`directory(code:) { rows(first:, after:) { ... } }`)
 * answered without Apollo: express middleware just before the response
 * cache's direct path. A page is the one read Mulu answers over and over
 * that the cache may never store (each is a logged delivery), and Apollo's
 * pipeline around it (the document's hash and parse, the context, a dozen
 * plugins' hooks, graphql-jit completing every edge) cost more Node CPU
 * than the page itself.
 *
 * What it keeps: the document is parsed and validated once, with the same
 * rules and limits as Apollo (graphql-js's rules, the shape limits), and
 * the cost limit is checked per request with the request's `first`; the
 * arguments are coerced by graphql-js and cleaned as every resolver's are
 * (input-hygiene.ts); the caller is the same (http/caller.ts; an anonymous
 * caller goes to Apollo); the page is read, authorised and logged by the
 * same service call as the resolver's (deliveryService.page: one
 * statement, counted as every statement of the request is), and written in
 * the same shape (rowConnection, each leaf through its scalar), with the
 * same headers, the response cap and the operation's name for logs and
 * metrics. Anything else goes to Apollo untouched: another document or
 * field, a filter, variables graphql-js refuses, an `extensions` member, an
 * `Accept` header Apollo must negotiate, a caller without a token. A page
 * the service refuses (not found, no grant, a bad cursor) delivered
 * nothing and logged nothing: it goes to Apollo, which runs it again and
 * answers the error as always, so a refusal costs its statements twice.
 */
export function rowPageDirect(options: RowPageDirectOptions): RequestHandler {
  const plans = new Map<string, RowPagePlan | null>();
  const bounds = listBounds(options.schema);
  const planFor = (query: string, operationName: string | null | undefined): RowPagePlan | null => {
    // The name after its length (nothing when absent): an empty name is not an absent one, a name holding a newline cannot run
    // into the document, and the key is no longer than the name and the document (JSON escapes would make it up to six times so).
    const key = operationName == null ? `\n${query}` : `${operationName.length}:${operationName}\n${query}`;
    let plan = plans.get(key);
    if (plan === undefined) {
      plan = planOf(options, query, operationName);
      // Oldest first out: a Map keeps insertion order.
      if (plans.size >= PLANS_KEPT) plans.delete(plans.keys().next().value!);
      plans.set(key, plan);
    }
    return plan;
  };

  return async function serveRowPage(req, res, next) {
    const contentType = plainAnswerContentType(req);
    const request = plainGraphQLRequest(req.body);
    if (contentType === undefined || !request) return next();
    const { query, operationName, variables } = request;
    if (
      query.length + (operationName?.length ?? 0) > MAX_PLANNED_CHARS ||
      // Cheap before the plan's lookup: most documents are not pages of rows.
      !query.includes('rows') ||
      !query.includes('directory')
    ) {
      return next();
    }
    const plan = planFor(query, operationName);
    if (!plan) return next();
    const coerced = getVariableValues(options.schema, plan.operation.variableDefinitions ?? [], (variables ?? {}) as Record<string, unknown>, { maxErrors: 1 });
    if (coerced.errors) return next();
    let code: unknown;
    let first: unknown;
    let after: unknown;
    try {
      if (
        // With the variables as sent, as Apollo's cost plugin estimates (a variable's default is not applied there: a page of 20 is assumed).
        queryCost(
          options.schema,
          { kind: Kind.DOCUMENT, definitions: [plan.operation] },
          plan.operation,
          (variables ?? {}) as Record<string, unknown>,
          options.maxCost,
          bounds,
        ) > options.maxCost
      )
        return next();
      ({ code } = getArgumentValues(plan.directoryField, plan.directoryNode, coerced.coerced));
      ({ first, after } = getArgumentValues(plan.rowsField, plan.rowsNode, coerced.coerced));
      if (typeof code !== 'string') return next();
      code = cleanTextArgument(code, 'code', 'code');
      if (typeof after === 'string') after = cleanTextArgument(after, 'after', 'after');
    } catch {
      return next();
    }
    let page: RowPage | undefined;
    try {
      const ctx = await createContext(options.orm, options.authenticator, req.headers.authorization, options.identify(req));
      if (!ctx.viewer) return next();
      page = await deliveryService.page(
        ctx,
        { code: code as string },
        { first: (first as number | null | undefined) ?? DEFAULT_ROWS_PAGE, after: after as string | null | undefined },
      );
    } catch (error) {
      // Refused (nothing delivered, nothing logged), or the caller's token failed: Apollo answers it as always. But a
      // statement that timed out (nothing delivered, nothing logged either) is answered here as Apollo answers it, rather
      // than run a second time through Apollo to the same timeout (a connection held twice as long, on a database already slow).
      if (sqlStateOf(error) !== '57014') return next();
    }
    // Delivered and logged from here on (a page): whatever happens is this request's answer, never Apollo's second delivery.
    const answer = page && { data: { directory: { rows: answerOf(rowConnection(page), plan.asked) } } };
    const observation = currentObservation();
    // As Apollo names it (didResolveOperation): the document's own name, whether or not the request gave it.
    if (observation) observation.operation = operationNameOf(plan.operation.name?.value ?? null, plan.operation);
    // As through Apollo: a statement that timed out is the field's error (counted by formatError) and then the
    // execution budget's one error without data; a page over the cap is the budget's error instead of the page
    // (delivered and logged all the same).
    if (!answer) observeErrorCode('TIME_BUDGET_EXCEEDED');
    const refused = !answer
      ? timeBudgetExceeded(options.requestTimeoutMs)
      : jsonSizeUpTo(answer, options.maxResponseBytes) > options.maxResponseBytes
        ? responseTooLarge(options.maxResponseBytes)
        : undefined;
    const status = refused ? httpStatusForCodes(refused.errors!.map((error) => error.extensions?.code as string | undefined)) : 200;
    const headers: [string, string][] = Object.entries(refused ? httpHeadersFor(refused.errors![0].extensions) : {});
    // A page is never stored (NEVER_CACHED): the cache's header says so, as on Apollo's path.
    headers.push([RESPONSE_CACHE_HEADER, 'MISS'], ...(options.headers?.() ?? []));
    sendAnswer(res, status, contentType, headers, Buffer.from(JSON.stringify(refused ?? answer) + '\n', 'utf8'), options.stallMs);
  };
}
