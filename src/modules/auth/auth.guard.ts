import { getNamedType, isLeafType, type GraphQLResolveInfo } from 'graphql';
import type { AuthChecker, MiddlewareFn } from 'type-graphql';
import type { MuluContext } from '../../graphql/context';
import { forbidden, unauthenticated } from '../../graphql/errors';
import { Role } from './viewer';

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

function anonymousMayResolve(info: GraphQLResolveInfo): boolean {
  const parent = info.parentType.name;
  if (parent === 'Mutation') return false;
  if (parent === 'Query' && !ANONYMOUS_ROOTS.has(info.fieldName)) return false;
  if (parent !== 'Query' && !isAnonymousType(parent)) return false;
  const returned = getNamedType(info.returnType);
  return isLeafType(returned) || isAnonymousType(returned.name);
}

/**
 * Applies to every field. Reads need an identity (or, when configured,
 * anonymous callers may read statistics of regions and departments and
 * nothing else); read-only viewers cannot run any mutation. Finer rules
 * (admin only, steward of this department) are in `@Authorized` and in the
 * services.
 */
export const accessGuard: MiddlewareFn<MuluContext> = ({ context, info }, next) => {
  const viewer = context.viewer;
  if (!viewer) {
    if (!context.anonymousStats || !anonymousMayResolve(info)) {
      throw unauthenticated(context.anonymousStats ? `${SIGN_IN} Without a token only statistics of regions and departments can be read.` : SIGN_IN);
    }
  } else if (info.parentType.name === 'Mutation' && viewer.role === Role.VIEWER) {
    throw forbidden('Your role is read-only (VIEWER); it cannot change anything.');
  }
  return next();
};
