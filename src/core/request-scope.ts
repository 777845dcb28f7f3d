import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What several layers keep for the request being served (its log line and
 * metrics, its clock reads, its SQL statement tally), in one
 * AsyncLocalStorage. Node 20 propagates every enabled AsyncLocalStorage into
 * every promise a request creates (thousands for a province dashboard), so
 * each one more costs on every promise; one store with a slot per layer
 * costs once.
 */
const storage = new AsyncLocalStorage<unknown[]>();

let slots = 0;

/**
 * One layer's value in the scope of the request being served. The first
 * middleware opens the scope (`open`); later ones fill their
 * slot with `run`.
 */
export class RequestSlot<T> {
  private readonly index = slots++;

  /** The value of the request being served, if any (undefined in scripts, migrations, timers). */
  get(): T | undefined {
    return storage.getStore()?.[this.index] as T | undefined;
  }

  /** Opens a new scope for one request (the first middleware of every request), with `value` in this slot. */
  open<R>(value: T, next: () => R): R {
    return storage.run(withSlot(this.index, value), next);
  }

  /**
   * Runs `next` with `value` in this slot: in the request's scope when one is
   * open (the value then holds for the rest of the request), else in a new one.
   */
  run<R>(value: T, next: () => R): R {
    const scope = storage.getStore();
    if (!scope) return this.open(value, next);
    scope[this.index] = value;
    return next();
  }
}

function withSlot(index: number, value: unknown): unknown[] {
  const scope: unknown[] = new Array(slots).fill(undefined);
  scope[index] = value;
  return scope;
}
