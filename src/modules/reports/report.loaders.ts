import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Region } from '../regions/region.entity';
import { reportService, type RegionReport, type ReportOptions } from './report.service';
import type { ReportUnitKind } from './report-snapshot.entity';
import { ReportMonthType } from './report.types';
import { snapshotService } from './snapshot.service';

export interface RegionReportKey {
  region: Region;
  options: ReportOptions;
}

const optionsKey = (o: ReportOptions) => JSON.stringify([o.period ?? null, o.comparedTo ?? null, o.threshold ?? null]);

export function createReportLoaders(em: EntityManager) {
  return {
    /** Reports of many regions asked with the same options share one computation (`region.children { report }`). */
    regionReport: new DataLoader<RegionReportKey, RegionReport, string>(
      async (keys) => {
        const groups = new Map<string, RegionReportKey[]>();
        for (const key of keys) groups.set(optionsKey(key.options), [...(groups.get(optionsKey(key.options)) ?? []), key]);
        const results = new Map<RegionReportKey, RegionReport | Error>();
        await Promise.all(
          [...groups.values()].map(async (group) => {
            try {
              const reports = await reportService.forRegions(
                em,
                group.map((k) => k.region),
                group[0].options,
              );
              for (const key of group) results.set(key, reports.get(key.region.code)!);
            } catch (error) {
              for (const key of group) results.set(key, error as Error);
            }
          }),
        );
        return keys.map((key) => results.get(key)!);
      },
      { cacheKeyFn: (key) => `${key.region.code} ${optionsKey(key.options)}` },
    ),
    /** Units' figures in every captured month, one statement per batch. */
    monthlyFigures: new DataLoader<{ kind: ReportUnitKind; key: string }, ReportMonthType[], string>(
      async (keys) => {
        const months = await snapshotService.monthsOf(em, keys);
        return keys.map((k) => (months.get(`${k.kind}:${k.key}`) ?? []).map((m) => new ReportMonthType(m.period, m.figures)));
      },
      { cacheKeyFn: (key) => `${key.kind}:${key.key}` },
    ),
  };
}
