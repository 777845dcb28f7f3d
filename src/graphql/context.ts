import type { MikroORM } from '@mikro-orm/postgresql';
import type { RequestContext } from '../request-context';
import { createLoaders, type Loaders } from './loaders';

/** The GraphQL context: the service context plus this request's loaders. */
export interface MuluContext extends RequestContext {
  loaders: Loaders;
}

export function createContext(orm: MikroORM): MuluContext {
  const em = orm.em.fork();
  return { em, loaders: createLoaders(em) };
}
