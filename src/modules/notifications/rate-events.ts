import { RankingMetric } from '../stats/ranking.service';
import { isBelow, METRICS, ratioOf } from '../reports/report-figures';
import { ReportUnitKind, type UnitFigures } from '../reports/report-snapshot.entity';
import { NotificationEventType, type NotificationEvent } from './notification-event';

interface Unit {
  kind: ReportUnitKind;
  key: string;
  name: string;
  figures: UnitFigures;
}

const METRIC_NAMES: Record<RankingMetric, string> = {
  [RankingMetric.MOUNT_RATE]: 'mountRate',
  [RankingMetric.MAIN_COVERAGE_RATE]: 'mainItemCoverageRate',
  [RankingMetric.SUB_COVERAGE_RATE]: 'subItemCoverageRate',
};

/**
 * After a capture: the units whose rate crossed the threshold since the
 * month before (both months rated). A department's event goes to that
 * department; a region's to administrators. Each crossing is written once
 * (its key: month, unit, metric, direction, threshold): capturing the month again
 * (`replace`) finds the same crossing and sent it a second time, under a new
 * event id a receiver could not deduplicate.
 */
export function rateThresholdEvents(
  period: string,
  previousPeriod: string,
  units: readonly Unit[],
  previousUnits: readonly Unit[],
  threshold: number,
): NotificationEvent[] {
  const before = new Map(previousUnits.map((u) => [`${u.kind}:${u.key}`, u]));
  const events: NotificationEvent[] = [];
  for (const unit of units) {
    const previous = before.get(`${unit.kind}:${unit.key}`);
    if (!previous) continue;
    for (const metric of METRICS) {
      const now = ratioOf(unit.figures, metric);
      const then = ratioOf(previous.figures, metric);
      if (now.denominator <= 0 || then.denominator <= 0) continue;
      const below = isBelow(now, threshold);
      if (below === isBelow(then, threshold)) continue;
      const type = below ? NotificationEventType.RATE_FELL_BELOW_THRESHOLD : NotificationEventType.RATE_ROSE_ABOVE_THRESHOLD;
      events.push({
        type,
        departments: unit.kind === ReportUnitKind.DEPARTMENT ? [unit.key] : [],
        dedupKey: `${type}:${period}:${unit.kind}:${unit.key}:${METRIC_NAMES[metric]}:${threshold}`,
        data: {
          unit: { kind: unit.kind, code: unit.key, name: unit.name },
          metric: METRIC_NAMES[metric],
          threshold,
          period,
          rate: now.numerator / now.denominator,
          counts: now,
          previousPeriod,
          previousRate: then.numerator / then.denominator,
          previousCounts: then,
        },
      });
    }
  }
  return events;
}
