import type { MikroORM } from '@mikro-orm/postgresql';
import { RequestSlot } from '../core/request-scope';

/**
 * What one request's answer owes to the clock rather than to the data.
 *
 * An answer read from the database is a function of the database's state,
 * except where it asks the time: a directory turns stale when its refresh
 * is older than its cycle, a granted subscription lapses after its end date,
 * "this month" becomes next month. The response cache (graphql/response-cache.ts)
 * reuses an answer only while neither the data nor, through these, the clock
 * could have changed it.
 */
export class ClockReads {
  /** Some read depends on the clock in a way nobody dated: the answer must not be reused. */
  undated = false;
  /** The first moment (database clock, epoch ms) some read's answer turns; Infinity when none does. */
  validUntil = Infinity;
  /** Whether SQL statements are being watched (from the start of the operation proper, not authentication). */
  watching = false;
}

const slot = new RequestSlot<ClockReads>();

/** Runs `next` (one request) with its own record of clock reads. */
export function withClockReads<T>(next: () => T): T {
  return slot.run(new ClockReads(), next);
}

/** The record of the request being served, if any (undefined in scripts, migrations, timers). */
export function currentClockReads(): ClockReads | undefined {
  return slot.get();
}

/**
 * Says that the answer being computed depends on the clock. With `until`,
 * the first moment by the database clock at which it may change (it holds
 * until then); without, the answer is not reusable at all.
 */
export function dependsOnTheClock(until?: Date | number): void {
  const reads = slot.get();
  if (!reads) return;
  if (until === undefined) reads.undated = true;
  else reads.validUntil = Math.min(reads.validUntil, typeof until === 'number' ? until : until.getTime());
}

/**
 * A comment that starts SQL reading the clock (now(), current_date...) when
 * the code sending it accounts for that itself with `dependsOnTheClock(until)`.
 * Any other statement that reads the clock makes its request's answer
 * undated. Only at the start: MikroORM writes parameter values into the text
 * the watcher sees, and a value (a search text) can never come first.
 */
export const CLOCK_ACCOUNTED_FOR = '/* clock accounted for */';

/** Functions and literals of PostgreSQL that read the clock ('now', 'today' and the like as timestamp input, one-argument age()). */
const CLOCK_SQL =
  /\b(now|clock_timestamp|statement_timestamp|transaction_timestamp|timeofday)\s*\(|\bcurrent_(date|time|timestamp)\b|\blocaltime(stamp)?\b|'(now|today|tomorrow|yesterday)'|\bage\s*\([^,()]*\)/i;

/** Whether a statement's text reads the clock without accounting for it. */
export function readsTheClockUnaccounted(sql: string): boolean {
  return !sql.trimStart().startsWith(CLOCK_ACCOUNTED_FOR) && CLOCK_SQL.test(sql);
}

const watched = new WeakSet<MikroORM>();

/**
 * Watches every statement `orm` sends: one that reads the clock on behalf of
 * a watched request, without saying until when its answer holds, marks that
 * answer undated. A safety net under the explicit calls for SQL built
 * anywhere, now or later. Reads of the clock in Node (new Date(), Date.now())
 * cannot be watched: code that answers a query with them calls
 * dependsOnTheClock() (businessToday, currentPeriod do).
 */
export function watchClockSql(orm: MikroORM): void {
  if (watched.has(orm)) return;
  watched.add(orm);
  orm.em
    .getConnection()
    .getKnex()
    .on('query', (query: { sql?: string }) => {
      const reads = slot.get();
      if (reads?.watching && !reads.undated && query.sql && readsTheClockUnaccounted(query.sql)) reads.undated = true;
    });
}
