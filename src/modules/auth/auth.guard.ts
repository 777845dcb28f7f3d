import type { ApolloServerPlugin } from '@apollo/server';
import {
  getNamedType,
  isLeafType,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import type { AuthChecker } from 'type-graphql';
import type { MuluContext } from '../../graphql/context';
import { forbidden, MuluError, unauthenticated } from '../../core/errors';
import { Role } from '../../core/viewer';

const SIGN_IN = 'Sign in first: send "Authorization: Bearer <token>" with a token of the unified identity platform or an API key.';

/** `@Authorized(...roles)`: no viewer is UNAUTHENTICATED, a viewer without one of the roles FORBIDDEN. */
export const authChecker: AuthChecker<MuluContext, Role> = ({ context }, roles) => {
  const viewer = context.viewer;
  if (!viewer) throw unauthenticated(SIGN_IN);
  if (roles.length === 0 || roles.includes(viewer.role)) return true;
  throw forbidden(`This needs the role ${roles.join(' or ')}; you are signed in as ${viewer.role}.`);
};

/** Root queries an anonymous caller may start from when MULU_ANONYMOUS_STATS is on. */
const ANONYMOUS_ROOTS = new Set(['region', 'department']);
/** Object types an anonymous caller may see: the unit tree and every `*Stats` type, nothing else. */
const ANONYMOUS_TYPES = new Set(['Region', 'Department', 'DepartmentConnection', 'DepartmentEdge', 'PageInfo']);
const isAnonymousType = (name: string) => ANONYMOUS_TYPES.has(name) || name.endsWith('Stats');

function anonymousMayResolve(parent: string, fieldName: string, returned: GraphQLNamedType): boolean {
  if (parent === 'Mutation') return false;
  if (parent === 'Query' && !ANONYMOUS_ROOTS.has(fieldName)) return false;
  if (parent !== 'Query' && !isAnonymousType(parent)) return false;
  return isLeafType(returned) || isAnonymousType(returned.name);
}

/**
 * Checks a whole operation once, before it runs: a check on every field as it
 * resolves would make every field asynchronous, and a catalogue page resolves
 * thousands of fields. Reads need an identity, or, when
 * configured, anonymous callers may read statistics of regions and
 * departments and nothing else (introspection stays open so the landing page
 * works); read-only viewers cannot run any mutation. Finer rules (admin only,
 * steward of this department) are in `@Authorized` and in the services.
 */
export function checkOperationAccess(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, context: MuluContext): void {
  const viewer = context.viewer;
  if (viewer) {
    if (operation.operation === 'mutation' && viewer.role === Role.VIEWER) throw forbidden('Your role is read-only (VIEWER); it cannot change anything.');
    return;
  }
  const refuse = () => unauthenticated(context.anonymousStats ? `${SIGN_IN} Without a token only statistics of regions and departments can be read.` : SIGN_IN);
  if (!context.anonymousStats) {
    if (isIntrospectionOnly(operation)) return;
    throw refuse();
  }
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      OperationDefinition(node) {
        if (node.operation !== 'query') throw refuse();
      },
      Field(node) {
        const parent = typeInfo.getParentType();
        const returned = typeInfo.getType();
        if (!parent || !returned || node.name.value.startsWith('__') || parent.name.startsWith('__')) return;
        if (!anonymousMayResolve(parent.name, node.name.value, getNamedType(returned))) throw refuse();
      },
    }),
  );
}

/** Only `__schema` / `__type` / `__typename` at the root: the landing page's introspection. */
function isIntrospectionOnly(operation: OperationDefinitionNode): boolean {
  return (
    operation.operation === 'query' &&
    operation.selectionSet.selections.every((selection) => selection.kind === Kind.FIELD && selection.name.value.startsWith('__'))
  );
}

/** Runs `checkOperationAccess` for every request, after the operation is known and before it executes. */
export function accessPlugin(): ApolloServerPlugin<MuluContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, contextValue }) {
          // Without an operation Apollo has already answered with an error.
          if (!operation) return;
          checkOperationAccess(schema, document, operation, contextValue);
          // Over HTTP a subscription would run its fields once with no event (an internal error at best).
          if (operation.operation === 'subscription')
            throw new MuluError('BAD_REQUEST', 'Subscriptions are served over graphql-ws (a WebSocket on /graphql), not over HTTP; see docs/notifications.md.');
        },
      };
    },
  };
}
