import 'reflect-metadata';
import {
  defaultFieldResolver,
  getNullableType,
  isInputObjectType,
  isListType,
  isObjectType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { getMetadataStorage as getValidatorStorage, ValidateIf, ValidateNested, ValidationTypes } from 'class-validator';
import { getMetadataStorage } from 'type-graphql';
import { checkDate, cleanText, isIdentifierName } from '../core/text';
import { badInput } from '../core/errors';

/**
 * Input fields that GraphQL lets a caller leave out (nullable, so that an
 * update may omit them) but whose value can never be null: their TypeScript
 * type does not admit null (`name?: string`, not `summary?: string | null`).
 * Read from the decorator metadata TypeScript emits: a union with null is
 * emitted as `Object`, a plain string as `String` (an enum as `String` by tsc,
 * as nothing by swc).
 */
function nullRefusedFields(): Set<string> {
  const refused = new Set<string>();
  const storage = getMetadataStorage();
  for (const input of storage.inputTypes) {
    for (const field of storage.fields.filter((f) => f.target === input.target || input.target.prototype instanceof f.target)) {
      if (!field.typeOptions.nullable) continue;
      const designType = Reflect.getMetadata('design:type', input.target.prototype, field.name);
      if (designType !== Object) refused.add(`${input.name}.${field.schemaName}`);
    }
  }
  return refused;
}

const TEXT_SCALARS = new Set(['String', 'ID']);
/** A calendar day, YYYY-MM-DD (graphql-scalars' LocalDate): a string the scalar has checked, its range not. */
const LOCAL_DATE = 'LocalDate';

/**
 * Input fields whose items the service checks one by one, to reject a bad
 * item by its index and keep the rest (supervision record batches): a bad
 * record there must not refuse the whole batch.
 */
const CHECKED_PER_ITEM = new Set(['IngestSupervisionRecordsInput.records']);

/** Whether any value of this input type holds text, a date or an input object (worth walking). */
function needsWalk(type: GraphQLInputType, seen = new Set<string>()): boolean {
  const inner = getNullableType(type);
  if (isListType(inner)) return needsWalk(inner.ofType, seen);
  if (isScalarType(inner)) return TEXT_SCALARS.has(inner.name) || inner.name.startsWith('DateTime') || inner.name === 'Date' || inner.name === LOCAL_DATE;
  if (isInputObjectType(inner)) return true;
  return false;
}

/**
 * A text argument or input field as every resolver receives it: `cleanText`,
 * identifier codes (by the field's `name`) upper-cased, errors naming `path`.
 * Also what the row page's direct path (modules/sharing/row-page.direct.ts) does to its text arguments.
 */
export const cleanTextArgument = (value: string, path: string, name: string): string => cleanText(value, path, { identifier: isIdentifierName(name) });

/**
 * Applies text hygiene to every string argument and input field of every
 * operation, in one place: the resolver of each field that takes arguments
 * holding text, dates or input objects is wrapped, once, when the schema is
 * built (no per-field middleware on the fields that take none). Its
 * arguments are walked with their GraphQL types before the resolver sees
 * them:
 *
 * - text goes through `cleanText` (control characters refused, NFC,
 *   identifier codes upper-cased), naming the argument path in the error;
 * - dates and calendar days go through `checkDate` (1900..2100; events at most a day ahead);
 * - an explicit `null` for an input field whose value cannot be null is
 *   refused, rather than crashing the service that reads it.
 */
export function applyInputHygiene(schema: GraphQLSchema): GraphQLSchema {
  const refusedNull = nullRefusedFields();

  const clean = (value: unknown, type: GraphQLInputType, path: string, name: string): unknown => {
    if (value === null || value === undefined) return value;
    const inner = getNullableType(type);
    if (isListType(inner))
      return Array.isArray(value) ? value.map((item, i) => clean(item, inner.ofType, `${path}[${i}]`, name)) : clean(value, inner.ofType, path, name);
    if (isScalarType(inner)) {
      if (typeof value === 'string' && TEXT_SCALARS.has(inner.name)) return cleanTextArgument(value, path, name);
      if (value instanceof Date) return checkDate(value, path, name);
      // 9999-12-31 as a subscription's end date passed, though every other date runs from 1900 to 2100.
      if (typeof value === 'string' && inner.name === LOCAL_DATE) checkDate(new Date(`${value}T00:00:00Z`), path, name);
      return value;
    }
    if (isInputObjectType(inner) && typeof value === 'object') {
      const fields = inner.getFields();
      const object = value as Record<string, unknown>;
      for (const key of Object.keys(object)) {
        const field = fields[key];
        if (!field || CHECKED_PER_ITEM.has(`${inner.name}.${key}`)) continue;
        if (object[key] === null && refusedNull.has(`${inner.name}.${key}`)) {
          throw badInput(`${path}.${key} cannot be null; leave it out to keep the current value.`, { field: `${path}.${key}` });
        }
        object[key] = clean(object[key], field.type, `${path}.${key}`, key);
      }
    }
    return value;
  };

  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const walked: readonly GraphQLArgument[] = field.args.filter((arg) => needsWalk(arg.type));
      if (walked.length === 0) continue;
      const cleanArgs = (args: Record<string, unknown>) => {
        for (const arg of walked) {
          if (args[arg.name] !== undefined) args[arg.name] = clean(args[arg.name], arg.type, arg.name, arg.name);
        }
      };
      const resolve = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args, context, info) => {
        cleanArgs(args);
        return resolve(source, args, context, info);
      };
      // A subscription's arguments reach its `subscribe` first (graphql-ws on /graphql), which looks them up before any
      // event is resolved: unwrapped, a NUL in figuresChanged(regionCode:) reached a statement and was answered as the
      // database being away.
      const subscribe = field.subscribe;
      if (subscribe) {
        field.subscribe = (source, args, context, info) => {
          cleanArgs(args);
          return subscribe(source, args, context, info);
        };
      }
    }
  }
  return schema;
}

/**
 * Has class-validator check inside every input object a caller nests in
 * another or in a resolver's arguments (ValidateNested on each field whose
 * type is an input class, lists item by item): without it the checks of the
 * nested class (lengths, ranges) never run, and a field that forgets the
 * decorator let a 4 MB search text through unchecked. A field that may be
 * null is checked only when given. Idempotent: what a field carries already
 * is not added again.
 */
export function validateNestedInputs(): void {
  const storage = getMetadataStorage();
  const inputNames = new Map<unknown, string>(storage.inputTypes.map((input) => [input.target, input.name]));
  const holders = new Set<unknown>([...inputNames.keys(), ...storage.argumentTypes.map((args) => args.target)]);
  const validators = getValidatorStorage();
  for (const field of storage.fields) {
    if (!holders.has(field.target) || !inputNames.has(field.getType())) continue;
    // Items the service checks one by one (a bad one refused by its index, the rest kept) are not refused here as a whole.
    if (CHECKED_PER_ITEM.has(`${inputNames.get(field.target)}.${field.schemaName}`)) continue;
    const has = (type: string) =>
      validators.getTargetValidationMetadatas(field.target, '', true, false).some((m) => m.propertyName === field.name && m.type === type);
    const prototype = field.target.prototype as object;
    if (!has(ValidationTypes.NESTED_VALIDATION)) ValidateNested({ each: Boolean(field.typeOptions.array) })(prototype, field.name);
    // class-validator refuses a null where it checks inside ("must be either object or array") unless told to skip it.
    if (field.typeOptions.nullable && !has(ValidationTypes.CONDITIONAL_VALIDATION)) ValidateIf((_, value: unknown) => value != null)(prototype, field.name);
  }
}
