import type { ApolloServerPlugin } from '@apollo/server';
import { defaultFieldResolver, isObjectType, type FormattedExecutionResult, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { MuluError } from '../core/errors';

/**
 * What one GraphQL request may spend once its estimated cost was accepted
 * (query-cost.ts): the estimate counts fields, not the time the database
 * takes or the size of the texts stored. The third budget, the statement
 * timeout, is a setting of the pool's connections (src/db/statement-timeout.ts).
 */
export interface ExecutionBudget {
  /** MULU_REQUEST_TIMEOUT_MS: from the start of the request; past it no further resolver runs. */
  requestTimeoutMs: number;
  /** MULU_MAX_RESPONSE_MB, in bytes: the largest answer sent, measured as UTF-8 JSON text before it is built. */
  maxResponseBytes: number;
}

/**
 * A province dashboard answers in well under a second and its text is about
 * 200 KB; a report of 20,000 departments with their figures is about 15 MB.
 */
export const DEFAULT_EXECUTION_BUDGET: Readonly<ExecutionBudget> = {
  requestTimeoutMs: 30_000,
  maxResponseBytes: 64 * 1024 * 1024,
};

/**
 * A request's deadline as its resolvers see it: one flag, set by one timer
 * when the time is up, so that a resolver pays a property read, not a clock
 * read. (A flag can only change between two turns of the event loop, and
 * only resolvers can wait for one, so checking it in resolvers suffices.)
 */
export interface RequestDeadline {
  passed: boolean;
}

export function newDeadline(): RequestDeadline {
  return { passed: false };
}

const timeBudgetMessage = (ms: number) =>
  `The request took longer than the ${ms / 1000} s one request may take (MULU_REQUEST_TIMEOUT_MS), or one of its database statements longer than MULU_STATEMENT_TIMEOUT_MS; nothing more was resolved. Ask for less (smaller pages, fewer fields or lists), or try again later.`;

/** Thrown by every resolver called once the deadline has passed; one instance, since thousands of fields may hit it. */
const PAST_DEADLINE = new MuluError('TIME_BUDGET_EXCEEDED', 'The request passed its deadline (MULU_REQUEST_TIMEOUT_MS); nothing more was resolved.');

/**
 * Wraps every field resolver of the schema: once the request's deadline has
 * passed (context.deadline), no further field is resolved, so a request
 * that outlives its budget stops doing work instead of running to the end.
 * Fields without a resolver of their own read a property of an object
 * already loaded and are left as they are.
 */
export function stopResolversAtDeadline(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (!field.resolve || field.resolve === defaultFieldResolver) continue;
      const resolve = field.resolve;
      field.resolve = (source, args, context: { deadline?: RequestDeadline } | undefined, info) => {
        if (context?.deadline?.passed) throw PAST_DEADLINE;
        return resolve(source, args, context, info);
      };
    }
  }
  return schema;
}

/**
 * The UTF-8 length of `value` as JSON text, computed without building the
 * text, or `Infinity` as soon as it passes `limit` (so a huge answer costs
 * at most `limit` worth of walking). Numbers count as 8 characters, close
 * enough for a cap; strings count their escapes as one character each.
 */
export function jsonSizeUpTo(value: unknown, limit: number): number {
  let size = 0;
  const visit = (v: unknown): void => {
    if (size > limit) return;
    switch (typeof v) {
      case 'string':
        size += Buffer.byteLength(v, 'utf8') + 2;
        return;
      case 'number':
        size += 8;
        return;
      case 'boolean':
        size += 5;
        return;
      case 'bigint':
        size += v.toString().length;
        return;
      case 'object':
        if (v === null) {
          size += 4;
          return;
        }
        if (Array.isArray(v)) {
          size += 2 + v.length;
          for (const item of v) {
            visit(item);
            if (size > limit) return;
          }
          return;
        }
        if (typeof (v as { toJSON?: unknown }).toJSON === 'function') {
          visit((v as { toJSON(): unknown }).toJSON());
          return;
        }
        size += 2;
        for (const key in v) {
          const item = (v as Record<string, unknown>)[key];
          if (item === undefined || typeof item === 'function') continue;
          size += key.length + 4;
          visit(item);
          if (size > limit) return;
        }
        return;
      default:
        return;
    }
  };
  visit(value);
  return size > limit ? Infinity : size;
}

/** The answer sent in place of one that passed its budget: one error, no data. */
function budgetError(code: 'TIME_BUDGET_EXCEEDED' | 'RESPONSE_TOO_LARGE', message: string, details: Record<string, unknown>): FormattedExecutionResult {
  const error: GraphQLFormattedError = { message, extensions: { code, ...details } };
  return { errors: [error] };
}

/** The answer sent in place of one that hit the request's deadline or a statement timeout. */
export const timeBudgetExceeded = (requestTimeoutMs: number) => budgetError('TIME_BUDGET_EXCEEDED', timeBudgetMessage(requestTimeoutMs), { requestTimeoutMs });

export const responseTooLarge = (maxBytes: number) =>
  budgetError(
    'RESPONSE_TOO_LARGE',
    `The answer would be larger than ${Math.round((maxBytes / 1024 / 1024) * 10) / 10} MB (MULU_MAX_RESPONSE_MB); ask for smaller pages or fewer fields, or use the CSV exports (/reports) for whole tables.`,
    { maxResponseBytes: maxBytes },
  );

/**
 * Enforces the request deadline and the response cap. At the start of each
 * request one timer is set to mark its deadline passed (cleared when the
 * operation turns out to be a mutation); when the answer is
 * ready, an answer that hit the deadline or a statement timeout (any
 * TIME_BUDGET_EXCEEDED) becomes that one error without data, rather than
 * thousands of field errors, and an answer larger than the cap becomes one
 * RESPONSE_TOO_LARGE error, measured before any text of it is built. Its
 * `willSendResponse` must run before the HTTP status plugin (which maps the
 * code to the status) and the response cache (which writes the text).
 */
export function executionBudgetPlugin(budget: ExecutionBudget): ApolloServerPlugin<{ deadline?: RequestDeadline }> {
  return {
    async requestDidStart({ contextValue }) {
      const deadline = contextValue.deadline;
      const timer = deadline
        ? setTimeout(() => {
            deadline.passed = true;
          }, budget.requestTimeoutMs)
        : undefined;
      timer?.unref();
      return {
        // Mutations run to their end: a write that committed is reported, never hidden behind a
        // deadline (their statements keep the statement timeout; long jobs lift it, statement-timeout.ts).
        async executionDidStart({ operation }) {
          if (operation.operation === 'mutation') clearTimeout(timer);
        },
        async willSendResponse({ response }) {
          clearTimeout(timer);
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          if (result.errors?.some((error) => error.extensions?.code === 'TIME_BUDGET_EXCEEDED')) {
            response.body.singleResult = timeBudgetExceeded(budget.requestTimeoutMs);
            return;
          }
          if (jsonSizeUpTo(result, budget.maxResponseBytes) > budget.maxResponseBytes) response.body.singleResult = responseTooLarge(budget.maxResponseBytes);
        },
      };
    },
  };
}
