import type { ApolloServerPlugin } from '@apollo/server';
import {
  getNamedType,
  getNullableType,
  isAbstractType,
  isCompositeType,
  isEnumType,
  isListType,
  isObjectType,
  Kind,
  valueFromAST,
  type DocumentNode,
  type FieldNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { badInput, MuluError } from '../core/errors';

/** Page size assumed when `first` is omitted (the connections' default). */
const DEFAULT_PAGE = 20;

/**
 * The bound of a list: a number of items, or one item per value of a
 * schema enum (`{ perValueOf: 'RankingMetric' }`: a unit's ranks, one per
 * rate), read from the built schema so that it follows the enum.
 */
export type ListBound = number | { perValueOf: string };

/**
 * The most items each list can hold, by `Type.field`: what the domain
 * allows (a province's departments in a report, a batch's records), not a
 * typical size, so that a list is never costed below what it can return. A
 * list whose `first` may be omitted to get all of it (`appendix4`) is costed
 * by its bound when `first` is absent, and never above it when `first` is
 * larger. A new list field without a defaulted `first` must be added here
 * (a schema test checks it); an undeclared one is costed at
 * UNDECLARED_LIST_BOUND.
 */
export const LIST_BOUNDS: Readonly<Record<string, ListBound>> = {
  // The most county- or city-level units directly under one unit of GB/T 2260 (Chongqing: 38).
  'Region.children': 40,
  // A province's departments: 10,000 at the benchmark's province scale, twice that as the bound.
  'RegionReport.departments': 20_000,
  'RegionReport.appendix4': 20_000,
  'RegionReport.appendix5': 20_000,
  'RegionReport.ranking': 20_000,
  'RegionReport.childRegions': 40,
  // One per rate the report ranks by.
  'RegionReport.belowThreshold': { perValueOf: 'RankingMetric' },
  'ReportBelowThreshold.departments': 20_000,
  'ReportBelowThreshold.childRegions': 40,
  'ReportUnit.ranks': { perValueOf: 'RankingMetric' },
  'ResourceDirectory.informationItems': 1_000,
  'ResourceDirectory.mounts': 200,
  'SupervisionMainItem.subItems': 200,
  'SupervisionStats.byCategory': { perValueOf: 'SupervisionCategory' },
  'Query.apiKeys': 1_000,
  'Query.reportSnapshots': 1_000,
  // Every webhook, unpaged: at most MAX_WEBHOOKS (notifications/webhook.service.ts).
  'Query.webhooks': 1_000,
  // One per captured month, as many as reportSnapshots.
  'Region.monthlyFigures': 1_000,
  'Department.monthlyFigures': 1_000,
  // "The first 100 rejected values."
  'DatasetLoad.rejected': 100,
  'IngestSupervisionRecordsResult.duplicateIndexes': 10_000,
  'IngestSupervisionRecordsResult.rejected': 10_000,
};

/** Cost multiplier of a list that LIST_BOUNDS does not name. */
export const UNDECLARED_LIST_BOUND = 1_000;

/** LIST_BOUNDS in numbers of items for this schema (an enum's bound is its number of values), with the introspection types' bounds. */
export function listBounds(schema: GraphQLSchema): Record<string, number> {
  const bounds: Record<string, number> = {};
  for (const [field, bound] of Object.entries(LIST_BOUNDS)) {
    if (typeof bound === 'number') {
      bounds[field] = bound;
      continue;
    }
    const type = schema.getType(bound.perValueOf);
    if (!isEnumType(type)) throw new Error(`LIST_BOUNDS: ${field} is bounded by the values of ${bound.perValueOf}, which is not an enum of the schema.`);
    bounds[field] = type.getValues().length;
  }
  return { ...bounds, ...introspectionBounds(schema) };
}

/** The lists of introspection types, bounded by this schema's own size. */
function introspectionBounds(schema: GraphQLSchema): Record<string, number> {
  const types = Object.values(schema.getTypeMap());
  let fields = 1;
  let args = 1;
  let enumValues = 1;
  let inputFields = 1;
  let interfaces = 1;
  let possibleTypes = 1;
  for (const type of types) {
    if ('getFields' in type) {
      const own = Object.values(type.getFields());
      if ('getInterfaces' in type) {
        fields = Math.max(fields, own.length);
        interfaces = Math.max(interfaces, type.getInterfaces().length);
        for (const field of own as GraphQLField<unknown, unknown>[]) args = Math.max(args, field.args.length);
      } else {
        inputFields = Math.max(inputFields, own.length);
      }
    }
    if ('getValues' in type) enumValues = Math.max(enumValues, type.getValues().length);
    if (isAbstractType(type)) possibleTypes = Math.max(possibleTypes, schema.getPossibleTypes(type).length);
  }
  const directives = schema.getDirectives();
  for (const directive of directives) args = Math.max(args, directive.args.length);
  return {
    '__Schema.types': types.length,
    '__Schema.directives': directives.length,
    '__Type.fields': fields,
    '__Type.interfaces': interfaces,
    '__Type.possibleTypes': possibleTypes,
    '__Type.enumValues': enumValues,
    '__Type.inputFields': inputFields,
    '__Field.args': args,
    '__Directive.args': args,
    '__Directive.locations': 20,
  };
}

/** Raised inside the walk as soon as the cost passes the maximum, so a huge document is not walked to the end. */
class OverLimit extends Error {}

/**
 * The estimated cost of an operation: every field asked for counts 1
 * (`__typename` and aliases too), and a page or list multiplies the cost of
 * what is asked inside it by how many items it can hold (`first`, or the
 * list's bound). Fragments are counted where they are spread. The walk stops
 * once the cost passes `stopAbove`, so it visits at most that many fields
 * whatever the document.
 */
export function queryCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  stopAbove = Number.MAX_SAFE_INTEGER,
  bounds: Record<string, number> = listBounds(schema),
): number {
  const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
  const root =
    operation.operation === 'query' ? schema.getQueryType() : operation.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
  if (!root) throw new Error(`The schema has no ${operation.operation} type.`);
  let total = 0;

  const multiplier = (parent: GraphQLCompositeType, node: FieldNode, field: GraphQLField<unknown, unknown>): number => {
    const isList = isListType(getNullableType(field.type));
    const bound = isList ? (bounds[`${parent.name}.${field.name}`] ?? UNDECLARED_LIST_BOUND) : undefined;
    const firstArg = field.args.find((arg) => arg.name === 'first');
    if (firstArg) {
      const given = node.arguments?.find((arg) => arg.name.value === 'first');
      const value = given ? valueFromAST(given.value, getNullableType(firstArg.type), variables) : firstArg.defaultValue;
      if (typeof value === 'number' && Number.isFinite(value)) return Math.min(Math.max(1, value), bound ?? Infinity);
      // A list without `first` is all of it (appendix4); a connection pages by its default size.
      return bound ?? DEFAULT_PAGE;
    }
    // A connection's edges are already counted by its `first`.
    if (!isList || field.name === 'edges') return 1;
    if (!isCompositeType(getNamedType(field.type))) return 1;
    return bound ?? UNDECLARED_LIST_BOUND;
  };

  // `factor`: how many times this selection set is resolved (the product of the lists above it).
  const walk = (parent: GraphQLCompositeType, selectionSet: SelectionSetNode, factor: number): void => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        total += factor;
        if (total > stopAbove) throw new OverLimit();
        if (!selection.selectionSet) continue;
        const field = fieldOf(schema, parent, selection.name.value);
        if (!field) throw new Error(`Unknown field ${parent.name}.${selection.name.value}.`);
        const named = getNamedType(field.type);
        if (!isCompositeType(named)) continue;
        const times = multiplier(parent, selection, field);
        walk(named, selection.selectionSet, factor * times);
      } else {
        const fragment = selection.kind === Kind.FRAGMENT_SPREAD ? fragments.get(selection.name.value) : selection;
        if (!fragment) throw new Error(`Unknown fragment ${selection.kind === Kind.FRAGMENT_SPREAD ? selection.name.value : ''}.`);
        const condition = fragment.typeCondition ? schema.getType(fragment.typeCondition.name.value) : parent;
        if (!condition || !isCompositeType(condition)) throw new Error('A fragment on an unknown type.');
        walk(condition, fragment.selectionSet, factor);
      }
    }
  };
  walk(root, operation.selectionSet, 1);
  return total;
}

function fieldOf(schema: GraphQLSchema, parent: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> | undefined {
  if (name === '__schema')
    return schema.getQueryType()?.getFields().__schema ?? ({ name, args: [], type: schema.getType('__Schema') } as unknown as GraphQLField<unknown, unknown>);
  if (name === '__type') return { name, args: [], type: schema.getType('__Type') } as unknown as GraphQLField<unknown, unknown>;
  if (isObjectType(parent) || 'getFields' in parent) return (parent as { getFields(): Record<string, GraphQLField<unknown, unknown>> }).getFields()[name];
  return undefined;
}

/**
 * Refuses, before any resolver runs, operations whose estimated cost exceeds
 * `maximum`, and fails closed: an operation whose cost cannot be estimated
 * (for any reason) is refused too, never run unchecked. A document with
 * several operations must name the one to run.
 */
export function queryCostLimit(maximum: number): ApolloServerPlugin {
  let bounds: Record<string, number> | undefined;
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, schema, operation }) {
          if (!operation) {
            const names = document.definitions.flatMap((d) => (d.kind === Kind.OPERATION_DEFINITION ? [d.name?.value ?? '(anonymous)'] : []));
            throw new MuluError(
              'BAD_REQUEST',
              request.operationName
                ? `The document has no operation named "${request.operationName}"; it holds ${names.join(', ')}.`
                : `The document holds ${names.length} operations (${names.join(', ')}); say which to run with "operationName".`,
            );
          }
          bounds ??= listBounds(schema);
          let cost: number;
          try {
            cost = queryCost(schema, document, operation, request.variables ?? {}, maximum, bounds);
          } catch (error) {
            if (error instanceof OverLimit) {
              throw badInput(
                `This query would cost more than ${maximum} (every field counts, times page sizes and list bounds); ask for smaller pages, fewer fields or fewer nested lists.`,
                { maximumCost: maximum },
              );
            }
            throw badInput('The cost of this query could not be estimated, so it is not run. Check the document and its variables.', { maximumCost: maximum });
          }
          if (cost > maximum) throw badInput(`This query would cost ${cost}; the limit is ${maximum}.`, { cost, maximumCost: maximum });
        },
      };
    },
  };
}
