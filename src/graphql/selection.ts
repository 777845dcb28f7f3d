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

/**
 * Whether the field being resolved asks for `name` among its own fields
 * (directly, in an inline fragment or in a named fragment), whatever the
 * directives on it say: a resolver may read ahead for a field asked, and one
 * skipped by `@skip` only costs the reading.
 */
export function asksField(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>, name: string): boolean {
  const seen = new Set<string>();
  const within = (set: SelectionSetNode | undefined): boolean =>
    !!set &&
    set.selections.some((selection) => {
      if (selection.kind === Kind.FIELD) return selection.name.value === name;
      if (selection.kind === Kind.INLINE_FRAGMENT) return within(selection.selectionSet);
      const fragment = selection.name.value;
      if (seen.has(fragment)) return false;
      seen.add(fragment);
      return within(info.fragments[fragment]?.selectionSet);
    });
  return info.fieldNodes.some((node) => within(node.selectionSet));
}

/** What a read-ahead needs of the field it reads for: its node, and the document's fragments (for asksField). */
export type AskedField = Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>;

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
  const seen = new Set<string>();
  // As execution decides (collectFields): a selection @skip(if: true) or @include(if: false) is not asked, so nothing is read
  // for it (else a skipped field, which the cost limit does not count, would still cost its statement).
  const included = (node: FieldNode | InlineFragmentNode | FragmentSpreadNode): boolean =>
    getDirectiveValues(GraphQLSkipDirective, node, info.variableValues)?.if !== true &&
    getDirectiveValues(GraphQLIncludeDirective, node, info.variableValues)?.if !== false;
  const within = (set: SelectionSetNode | undefined): void => {
    for (const selection of set?.selections ?? []) {
      if (!included(selection)) continue;
      if (selection.kind === Kind.INLINE_FRAGMENT) within(selection.selectionSet);
      else if (selection.kind === Kind.FRAGMENT_SPREAD) {
        if (seen.has(selection.name.value)) continue;
        seen.add(selection.name.value);
        within(info.fragments[selection.name.value]?.selectionSet);
      } else if (fields[selection.name.value]?.extensions?.readAhead) {
        const answerKey = selection.alias?.value ?? selection.name.value;
        asked.set(answerKey, [...(asked.get(answerKey) ?? []), selection]);
      }
    }
  };
  for (const node of info.fieldNodes) within(node.selectionSet);
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
