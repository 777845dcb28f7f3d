import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildMuluSchema } from '../../src/graphql/schema';
import { printSchemaFile } from '../../src/graphql/print-schema';
import { isEnumType, isInputObjectType, isInterfaceType, isNonNullType, isObjectType } from 'graphql';

describe('the committed schema', () => {
  it('is exactly what the code builds (run `npm run schema:emit` after changing a type)', async () => {
    const committed = readFileSync(join(__dirname, '..', '..', 'schema', 'schema.graphql'), 'utf8');
    expect(committed).toBe(await printSchemaFile());
  });

  it('describes every type, field, argument and enum value, since the schema is the manual', async () => {
    const schema = await buildMuluSchema();
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__')) continue;
      const isRoot = type === schema.getQueryType() || type === schema.getMutationType();
      if (!type.description && !isRoot) missing.push(type.name);
      if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of 'args' in field ? field.args : []) if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
      if (isEnumType(type)) {
        for (const value of type.getValues()) if (!value.description) missing.push(`${type.name}.${value.name}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('makes every mutation field nullable, so one failure nulls its own field and not the whole answer', async () => {
    const schema = await buildMuluSchema();
    const nonNull = Object.values(schema.getMutationType()!.getFields()).filter((field) => isNonNullType(field.type));
    expect(nonNull.map((field) => field.name)).toEqual([]);
  });
});
