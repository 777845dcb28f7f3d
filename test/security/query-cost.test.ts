import 'reflect-metadata';
import { getIntrospectionQuery, getNamedType, getNullableType, isCompositeType, isListType, isObjectType, Kind, parse, type OperationDefinitionNode } from 'graphql';
import { buildMuluSchema } from '../../src/graphql/schema';
import { LIST_BOUNDS, queryCost } from '../../src/graphql/query-cost';
import { DEFAULT_OPERATION_LIMITS } from '../../src/graphql/limits';
import { cataloguePage, districtRanking, provinceDashboard } from '../bench/scenarios';

const operationOf = (query: string) => {
  const document = parse(query);
  return { document, operation: document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode };
};

describe('query cost', () => {
  it('knows the bound of every list of objects that has no `first`', async () => {
    const schema = await buildMuluSchema();
    const undeclared: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      for (const field of Object.values(type.getFields())) {
        if (field.name === 'edges' || field.args.some((arg) => arg.name === 'first')) continue;
        if (isListType(getNullableType(field.type)) && isCompositeType(getNamedType(field.type)) && !LIST_BOUNDS[`${type.name}.${field.name}`]) undeclared.push(`${type.name}.${field.name}`);
      }
    }
    expect(undeclared).toEqual([]);
  });

  it('counts every field, __typename and aliases included, times pages', async () => {
    const schema = await buildMuluSchema();
    const { document, operation } = operationOf(`{ a: __typename b: __typename region(code: "1") { departments(first: 10) { edges { node { __typename name } } } } }`);
    // a, b, region, departments, then 10 x (edges, node, __typename, name)
    expect(queryCost(schema, document, operation, {})).toBe(4 + 10 * 4);
    const { document: withVariable, operation: op2 } = operationOf(`query($n: Int) { directories(first: $n) { edges { node { code } } } }`);
    expect(queryCost(schema, withVariable, op2, { n: 100 })).toBe(1 + 100 * 3);
  });

  it('lets the landing page introspect and every benchmark read run', async () => {
    const schema = await buildMuluSchema();
    const introspection = operationOf(getIntrospectionQuery());
    const introspectionCost = queryCost(schema, introspection.document, introspection.operation, {});
    process.stdout.write(`introspection query cost: ${introspectionCost}\n`);
    expect(introspectionCost).toBeLessThanOrEqual(DEFAULT_OPERATION_LIMITS.maxCost);
    for (const scenario of [provinceDashboard, districtRanking, cataloguePage]) {
      const { document, operation } = operationOf(scenario.query);
      const cost = queryCost(schema, document, operation, scenario.variables);
      expect([scenario.name, cost <= DEFAULT_OPERATION_LIMITS.maxCost]).toEqual([scenario.name, true]);
    }
  });
});
