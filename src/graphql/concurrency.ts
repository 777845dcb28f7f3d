import type { MiddlewareFn } from 'type-graphql';

/**
 * A type-graphql middleware that lets at most `limit` calls of a field run at
 * once in this process; the others wait in arrival order. Middlewares run
 * before type-graphql converts the arguments, so a waiting call holds only
 * its parsed request, not the working set of a running one.
 */
export function atMostConcurrently(limit: number): MiddlewareFn {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (_action, next) => {
    if (running >= limit) await new Promise<void>((resume) => waiting.push(resume));
    else running++;
    try {
      return await next();
    } finally {
      // Hand the slot straight to the next caller, or free it.
      const resume = waiting.shift();
      if (resume) resume();
      else running--;
    }
  };
}
