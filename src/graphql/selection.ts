import {
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  isObjectType,
  Kind,
  type FieldNode,
  type FragmentSpreadNode,
  type GraphQLResolveInfo,
  type InlineFragmentNode,
  type SelectionSetNode,
} from 'graphql';

/** What a read-ahead needs of the field it reads for: its node, and the document's fragments (for asksField). */
export type AskedField = Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>;

type Selection = FieldNode | InlineFragmentNode | FragmentSpreadNode;

/**
 * The fields selected directly below `asked.fieldNodes`, through inline and
 * named fragments (each named fragment once); `included` leaves out the
 * selections it refuses (and what is below them).
 */
function* selectedFields(asked: AskedField, included: (selection: Selection) => boolean = () => true): Generator<FieldNode> {
  const seen = new Set<string>();
  function* within(set: SelectionSetNode | undefined): Generator<FieldNode> {
    for (const selection of set?.selections ?? []) {
      if (!included(selection)) continue;
      if (selection.kind === Kind.FIELD) yield selection;
      else if (selection.kind === Kind.INLINE_FRAGMENT) yield* within(selection.selectionSet);
      else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        yield* within(asked.fragments[selection.name.value]?.selectionSet);
      }
    }
  }
  for (const node of asked.fieldNodes) yield* within(node.selectionSet);
}

/**
 * Whether the field being resolved asks for `name` among its own fields
 * (directly, in an inline fragment or in a named fragment), whatever the
 * directives on it say: a resolver may read ahead for a field asked, and one
 * skipped by `@skip` only costs the reading.
 */
export function asksField(asked: AskedField, name: string): boolean {
  for (const field of selectedFields(asked)) if (field.name.value === name) return true;
  return false;
}

/**
 * Starts what a field's resolver will read, given the key of the object the
 * field belongs to, before that object itself is read: the same loader with
 * the same key, so that the resolver finds the load under way (or done) and
 * the two statements run at once instead of one after the other. It must
 * not throw for bad arguments (the resolver reports them) and must not
 * start anything the resolver would not ask for with the same key.
 */
export type ReadAhead<Context> = (key: string, args: Record<string, unknown>, context: Context, asked: AskedField) => void;

/** The field extension marking a field whose reading may start early; set with type-graphql's `@Extensions(readAhead(...))`. */
export function readAhead<Context>(read: ReadAhead<Context>): { readAhead: ReadAhead<Context> } {
  return { readAhead: read };
}

/**
 * For a resolver that knows the key of the object it returns before reading
 * it (`region(code:)`): starts the reading of every field asked of that
 * object whose definition has a read-ahead (readAhead), with the field's
 * arguments as the resolver will get them. A field whose arguments are
 * wrong is left to its resolver, which reports them. If the object turns out
 * not to exist, what was started is read for nothing: one statement.
 */
export function readAheadAsked<Context>(info: GraphQLResolveInfo, key: string, context: Context): void {
  const type = getNamedType(info.returnType);
  if (!isObjectType(type)) return;
  const fields = type.getFields();
  // Nodes by the answer's key (alias or name), merged as execution merges them (one field, one set of arguments).
  const asked = new Map<string, FieldNode[]>();
  // As execution decides (collectFields): a selection @skip(if: true) or @include(if: false) is not asked, so nothing is
  // read for it (else a skipped field, which execution never resolves, would still cost its statement).
  const included = (node: Selection): boolean =>
    getDirectiveValues(GraphQLSkipDirective, node, info.variableValues)?.if !== true &&
    getDirectiveValues(GraphQLIncludeDirective, node, info.variableValues)?.if !== false;
  for (const selection of selectedFields(info, included)) {
    if (!fields[selection.name.value]?.extensions?.readAhead) continue;
    const answerKey = selection.alias?.value ?? selection.name.value;
    asked.set(answerKey, [...(asked.get(answerKey) ?? []), selection]);
  }
  for (const nodes of asked.values()) {
    const field = fields[nodes[0].name.value];
    try {
      const read = field.extensions.readAhead as ReadAhead<Context>;
      read(key, getArgumentValues(field, nodes[0], info.variableValues), context, { fieldNodes: nodes, fragments: info.fragments });
    } catch {
      // Arguments the field's resolver will refuse: nothing is read ahead, and the resolver says what is wrong.
    }
  }
}
