import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { RegionRow } from '../regions/region.row';
import { reportService, type RegionReport, type ReportOptions, type ReportSources } from './report.service';
import type { ReportUnitKind } from './report-snapshot.entity';
import { ReportMonthType } from './report.types';
import { reportDepartmentsService, type DepartmentListPage, type DepartmentListRequest } from './report-departments.service';
import { snapshotService } from './snapshot.service';

export interface RegionReportKey {
  region: RegionRow;
  options: ReportOptions;
}

const optionsKey = (o: ReportOptions) => JSON.stringify([o.period ?? null, o.comparedTo ?? null, o.threshold ?? null]);

export function createReportLoaders(em: EntityManager) {
  /**
   * Where the reports asked with the same options come from (reportService.sourcesOf): known before their figures,
   * so that the department lists (reportDepartments) are sent beside the regions' figures, not after them.
   */
  const reportSources = new DataLoader<ReportOptions, ReportSources, string>(
    async (optionsList) => Promise.all(optionsList.map((options) => reportService.sourcesOf(em, options).catch((error: Error) => error))),
    { cacheKeyFn: optionsKey },
  );
  return {
    reportSources,
    /** Reports of many regions asked with the same options share one computation (`region.children { report }`). */
    regionReport: new DataLoader<RegionReportKey, RegionReport, string>(
      async (keys) => {
        const groups = new Map<string, RegionReportKey[]>();
        for (const key of keys) groups.set(optionsKey(key.options), [...(groups.get(optionsKey(key.options)) ?? []), key]);
        const results = new Map<RegionReportKey, RegionReport | Error>();
        await Promise.all(
          [...groups.values()].map(async (group) => {
            try {
              const reports = await reportService.figuresOf(
                em,
                group.map((k) => k.region),
                await reportSources.load(group[0].options),
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
    /**
     * Pages of the department lists of reports (appendix 4 and 5, by name,
     * below the threshold): every list of every report asked in one request
     * with the same figures, comparison and threshold, one statement.
     */
    reportDepartments: new DataLoader<DepartmentListRequest, DepartmentListPage, string>(
      async (requests) => {
        const sourceKey = (r: DepartmentListRequest) => JSON.stringify([r.from.source, r.from.period, r.from.comparedTo, r.from.threshold]);
        const groups = new Map<string, DepartmentListRequest[]>();
        for (const request of requests) groups.set(sourceKey(request), [...(groups.get(sourceKey(request)) ?? []), request]);
        const pages = new Map<DepartmentListRequest, DepartmentListPage | Error>();
        await Promise.all(
          [...groups.values()].map(async (group) => {
            try {
              const answers = await reportDepartmentsService.pages(em, group[0].from, group);
              group.forEach((request, i) => pages.set(request, answers[i]));
            } catch (error) {
              for (const request of group) pages.set(request, error as Error);
            }
          }),
        );
        return requests.map((request) => pages.get(request)!);
      },
      {
        cacheKeyFn: (r) => JSON.stringify([r.regionCode, r.from.source, r.from.period, r.from.comparedTo, r.from.threshold, r.list, r.first]),
      },
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
