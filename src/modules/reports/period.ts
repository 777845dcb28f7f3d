import { badInput } from '../../core/errors';
import { dependsOnTheClock } from '../../db/clock-reads';

/** A reporting period: one calendar month, written YYYY-MM (e.g. "2023-06"). */
export type Period = string;

const PERIOD_PATTERN = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** Checks and normalises a period, with a message a dashboard developer understands. */
export function requirePeriod(value: string, what = 'period'): Period {
  const text = value.trim();
  const match = PERIOD_PATTERN.exec(text);
  if (!match || Number(match[1]) < 2000) throw badInput(`The ${what} "${value}" is not a month: write it as YYYY-MM, e.g. 2023-06.`);
  return text;
}

/**
 * Written in place of a month (an export's URL, the CLI's --period): the
 * figures as they stand, those of `Region.report` without a period. A
 * dashboard showing them offers their export: the current month's own
 * snapshot, once captured, no longer changes, while the live figures do.
 */
export const LIVE_PERIOD = 'live';

export const isLivePeriod = (value: string) => value.trim().toLowerCase() === LIVE_PERIOD;

/** The month before a period: 2023-01 -> 2022-12. */
export function previousPeriod(period: Period): Period {
  const [year, month] = period.split('-').map(Number);
  return month === 1 ? `${year - 1}-12` : `${year}-${String(month - 1).padStart(2, '0')}`;
}

/** The current month in China Standard Time (UTC+8), where the reports are written. */
export function currentPeriod(now: Date = new Date()): Period {
  const cst = new Date(now.getTime() + 8 * 3600_000);
  // "This month" changes with no write, at midnight (CST) of the first of the next month: answers using it
  // are reused until then (response-cache.ts), less a minute for the skew between this clock and the database's.
  dependsOnTheClock(Date.UTC(cst.getUTCFullYear(), cst.getUTCMonth() + 1, 1) - 8 * 3600_000 - MONTH_TURN_MARGIN_MS);
  return `${cst.getUTCFullYear()}-${String(cst.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** How long before a month turns its answers stop being reused: more than any skew between Node's clock and PostgreSQL's. */
const MONTH_TURN_MARGIN_MS = 60_000;

/**
 * A period that has begun: the current month (China Standard Time) or an
 * earlier one. A snapshot records the figures as they stand when it is
 * captured, so a month that has not begun cannot have one.
 */
export function requireBegunPeriod(value: string, what = 'period', now: Date = new Date()): Period {
  const period = requirePeriod(value, what);
  const current = currentPeriod(now);
  if (period > current) {
    throw badInput(
      `The ${what} ${period} has not begun: the current month is ${current} (China Standard Time). A snapshot records the figures as they stand when it is captured, so a month can be captured from its first day on.`,
    );
  }
  return period;
}
