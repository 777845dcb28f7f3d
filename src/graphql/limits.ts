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
