import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  GraphQLError,
  Kind,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type ParseOptions,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { RequestHandler } from 'express';
import { sendGraphQLError } from '../http/json-body';
import { queryCostLimit } from './query-cost';

/**
 * The shape limits of one GraphQL operation, checked before it runs
 * (docs/security.md, "Limits"). Each can be set by its environment variable.
 */
export interface OperationLimits {
  /** MULU_MAX_QUERY_COST: estimated fields to resolve, times page sizes and list bounds (query-cost.ts). */
  maxCost: number;
  /** MULU_MAX_ALIASES: aliased fields in one document, `__typename` included. */
  maxAliases: number;
  /** MULU_MAX_DEPTH: nesting of selections. */
  maxDepth: number;
  /** MULU_MAX_TOKENS: lexical tokens of the document (refused while parsing). */
  maxTokens: number;
  /** MULU_MAX_DIRECTIVES: directives in one document. */
  maxDirectives: number;
  /** MULU_MAX_ROOT_FIELDS: fields at the root of one operation (fragments expanded). */
  maxRootFields: number;
}

/** Enough for a province dashboard or 500 departments with their figures; far below a nested-pages attack. */
export const DEFAULT_OPERATION_LIMITS: Readonly<OperationLimits> = {
  maxCost: 1_000_000,
  maxAliases: 200,
  maxDepth: 15,
  maxTokens: 5_000,
  maxDirectives: 20,
  maxRootFields: 200,
};

/**
 * Deepest nesting of brackets ({ [ and ( together) a GraphQL document may
 * have. Fifteen levels of selections with arguments and input objects stay
 * far below it. graphql-js parses nested values and selections by recursion:
 * a list literal nested 2,400 deep (4,800 tokens, under MULU_MAX_TOKENS)
 * overflowed the stack, which HTTP answered as 'Maximum call stack size
 * exceeded' and graphql-ws as an internal error closing the connection.
 */
export const MAX_DOCUMENT_NESTING = 64;

/**
 * Refuses a document nested deeper than MAX_DOCUMENT_NESTING before it is
 * parsed (GRAPHQL_PARSE_FAILED), read from its text in one pass: brackets in
 * strings, block strings and comments are not structure.
 */
export function checkDocumentNesting(source: string): void {
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === 0x23) {
      // A comment, to the end of its line.
      while (i < source.length && source.charCodeAt(i) !== 0x0a && source.charCodeAt(i) !== 0x0d) i++;
    } else if (c === 0x22 && source.startsWith('"""', i)) {
      // A block string, to the first """ that is not escaped (\""").
      i += 3;
      while (i < source.length && !(source.startsWith('"""', i) && source.charCodeAt(i - 1) !== 0x5c)) i++;
      i += 2;
    } else if (c === 0x22) {
      // A string, to its closing quote (a backslash escapes the next character) or the end of its line.
      for (i++; i < source.length && source.charCodeAt(i) !== 0x22 && source.charCodeAt(i) !== 0x0a; i++) if (source.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x7b || c === 0x5b || c === 0x28) {
      if (++depth > MAX_DOCUMENT_NESTING)
        throw new GraphQLError(
          `The document nests brackets more than ${MAX_DOCUMENT_NESTING} deep ({, [ and ( together); no query or value of this API needs that many. Send a flatter document.`,
          { extensions: { code: 'GRAPHQL_PARSE_FAILED' } },
        );
    } else if (c === 0x7d || c === 0x5d || c === 0x29) depth--;
  }
}

/**
 * checkDocumentNesting for HTTP: the document of a POST body or a GET's query
 * parameter, before the response cache, the row page's direct path or Apollo
 * parse it (graphql-ws checks its operations itself).
 */
export function documentNestingGuard(): RequestHandler {
  return (req, res, next) => {
    const body: unknown = req.body;
    const source =
      body && typeof body === 'object' && typeof (body as { query?: unknown }).query === 'string'
        ? (body as { query: string }).query
        : typeof req.query.query === 'string'
          ? req.query.query
          : null;
    try {
      if (source !== null) checkDocumentNesting(source);
    } catch (error) {
      return sendGraphQLError(res, 'GRAPHQL_PARSE_FAILED', (error as Error).message);
    }
    next();
  };
}

/** A validation rule: at most `maximum` fields at the root of an operation, whatever fragments they come through. */
export function maxRootFieldsRule(maximum: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const count = (selectionSet: SelectionSetNode, seen: Set<string>): number => {
      let fields = 0;
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) fields++;
        else if (selection.kind === Kind.INLINE_FRAGMENT) fields += count(selection.selectionSet, seen);
        else if (!seen.has(selection.name.value)) {
          const fragment: FragmentDefinitionNode | undefined | null = context.getFragment(selection.name.value);
          if (fragment) fields += count(fragment.selectionSet, new Set([...seen, selection.name.value]));
        }
      }
      return fields;
    };
    return {
      OperationDefinition(node) {
        const fields = count(node.selectionSet, new Set());
        if (fields > maximum) {
          context.reportError(
            new GraphQLError(`This operation asks for ${fields} root fields; at most ${maximum} are allowed (MULU_MAX_ROOT_FIELDS). Send several requests.`, {
              nodes: [node],
              extensions: { code: 'BAD_USER_INPUT' },
            }),
          );
        }
      },
    };
  };
}

/**
 * Every check of an operation's shape and cost, as Apollo plugins and
 * validation rules: graphql-armor for aliases, depth and directives (and
 * for masking field suggestions), graphql-js's parser for tokens, Mulu's
 * own rule for root fields and
 * its own list-aware cost estimate, which fails closed (query-cost.ts).
 * Aliases of `__typename` count like any other (armor's default lets them
 * through, which is how 10,000 of them once padded a query past the estimator).
 */
export function operationLimits(limits: OperationLimits): { plugins: ApolloServerPlugin[]; validationRules: ValidationRule[]; parseOptions: ParseOptions } {
  const armor = new ApolloArmor({
    costLimit: { enabled: false },
    maxAliases: { n: limits.maxAliases, allowList: [] },
    maxDepth: { n: limits.maxDepth, flattenFragments: true },
    // graphql-js counts tokens itself while parsing (a parse error, 400); armor's plugin throws where Apollo answers 500.
    maxTokens: { enabled: false },
    maxDirectives: { n: limits.maxDirectives },
    blockFieldSuggestion: { enabled: true },
  }).protect();
  return {
    plugins: [...(armor.plugins as ApolloServerPlugin[]), queryCostLimit(limits.maxCost)],
    validationRules: [...armor.validationRules, maxRootFieldsRule(limits.maxRootFields)],
    parseOptions: { maxTokens: limits.maxTokens },
  };
}
