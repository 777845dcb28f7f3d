import { getMetadataStorage as validatorStorage, ValidationTypes } from 'class-validator';
import { getMetadataStorage } from 'type-graphql';
import { errorCodes } from '../support/builders';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * The checks of an input object nested in another (or in a resolver's
 * arguments) run only when the field holding it carries ValidateNested:
 * fields that forgot it let their nested lengths and ranges go unchecked
 * (the audit trail's filter: 100-character limits never applied). The
 * schema now adds it to every such field (input-hygiene.ts
 * validateNestedInputs), so no input can forget it.
 */
describe('input objects nested in other inputs', () => {
  let api: TestServer;
  beforeAll(async () => {
    api = await startTestServer();
  });
  afterAll(async () => api.close());

  it('are checked inside wherever they are nested: every field whose type is an input class validates it, and skips it when null', () => {
    const storage = getMetadataStorage();
    const inputs = new Map<unknown, string>(storage.inputTypes.map((input) => [input.target, input.name]));
    const holders = new Set<unknown>([...inputs.keys(), ...storage.argumentTypes.map((args) => args.target)]);
    const fields = storage.fields.filter((f) => holders.has(f.target) && inputs.has(f.getType()));
    expect(fields.length).toBeGreaterThan(10);
    const missing = fields
      .filter((f) => `${inputs.get(f.target)}.${f.schemaName}` !== 'IngestSupervisionRecordsInput.records')
      .filter((f) => {
        const kinds = validatorStorage()
          .getTargetValidationMetadatas(f.target, '', true, false)
          .filter((m) => m.propertyName === f.name)
          .map((m) => m.type);
        return !kinds.includes(ValidationTypes.NESTED_VALIDATION) || (f.typeOptions.nullable && !kinds.includes(ValidationTypes.CONDITIONAL_VALIDATION));
      })
      .map((f) => `${(f.target as { name: string }).name}.${f.name}`);
    expect(missing).toEqual([]);
  });

  it("refuses what the nested class refuses (the audit trail's filter), and takes a nested input given as null", async () => {
    const long = await api.request(`query($type: String) { auditEntries(filter: { entityType: $type }) { edges { node { id } } } }`, { type: 'x'.repeat(101) });
    expect(errorCodes(long)).toEqual(['BAD_USER_INPUT']);
    expect(long.errors?.[0].message).toMatch(/entityType/);
    const fine = await api.request(`{ auditEntries(filter: { entityType: "ResourceDirectory" }) { edges { node { id } } } }`);
    expect(fine.errors).toBeUndefined();
    for (const document of [
      `{ auditEntries(filter: null) { edges { node { id } } } }`,
      `{ directories(first: 1, filter: null) { edges { node { code } } } }`,
    ]) {
      expect((await api.request(document)).errors).toBeUndefined();
    }
  });
});
