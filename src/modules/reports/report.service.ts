import type { EntityManager } from '@mikro-orm/postgresql';
import { badInput, MuluError, notFound } from '../../core/errors';
import type { RequestContext } from '../../core/request-context';
import { requireViewer } from '../../core/permissions';
import { identifierCode } from '../../core/text';
import { Region } from '../regions/region.entity';
import type { RegionRow } from '../regions/region.row';
import { RankingMetric } from '../stats/ranking.service';
import { currentPeriod, isLivePeriod, previousPeriod, requirePeriod } from './period';
import { changeOf, compareNames, compareRatesHighestFirst, isBelow, METRICS, ratioOf, type FiguresChange } from './report-figures';
import type { DepartmentsSource } from './report-departments.service';
import { ReportUnitKind, type UnitFigures } from './report-snapshot.entity';
import { snapshotService } from './snapshot.service';
import { unitFiguresService, type UnitWithFigures } from './unit-figures.service';

/** Where a side of a report comes from. */
export enum FiguresSource {
  /** A captured snapshot of the period. */
  SNAPSHOT = 'SNAPSHOT',
  /** The figures as they stand now (no snapshot of the current month yet, or no period asked). */
  LIVE = 'LIVE',
}

export interface ReportOptions {
  /** YYYY-MM; absent: the live figures. */
  period?: string | null;
  /** YYYY-MM; absent: the month before `period` (or before the current month), when it has a snapshot. */
  comparedTo?: string | null;
  /** Units whose rate is below this (in [0, 1]) are listed per rate. */
  threshold?: number | null;
}

export const DEFAULT_THRESHOLD = 0.6;

/** One side of a report: a period's units of one region tree. */
export interface ReportSide {
  period: string;
  source: FiguresSource;
  capturedAt: Date | null;
  units: UnitWithFigures[];
}

/** The rank of a unit among its peers by one rate. */
export interface UnitRank {
  metric: RankingMetric;
  /** 1 = highest rate; null when the unit has no rate. */
  rank: number | null;
  /** How many peers were ranked (units with a rate). */
  of: number;
  below: boolean;
}

export interface ReportUnit {
  kind: ReportUnitKind;
  key: string;
  name: string;
  figures: UnitFigures;
  /** The compared period's figures; null when the unit was not there or nothing is compared. */
  previous: UnitFigures | null;
  change: FiguresChange | null;
  /** Among departments, or among child regions; empty for the region itself. */
  ranks: UnitRank[];
}

export interface BelowThreshold {
  metric: RankingMetric;
  /** Lowest rate first, ties by name. (Its departments: reportDepartmentsService, from the report's `departments`.) */
  childRegions: ReportUnit[];
}

/** Where a report comes from, known before any figure is read (reportService.sourcesOf). */
export interface ReportSources {
  period: string;
  source: FiguresSource;
  capturedAt: Date | null;
  comparedTo: string | null;
  comparedCapturedAt: Date | null;
  threshold: number;
  /**
   * Where every department in the region and below it comes from: a
   * province has 10,000, which PostgreSQL orders, ranks and pages
   * (reportDepartmentsService) when a list of them is asked for.
   */
  departments: DepartmentsSource;
}

export interface RegionReport extends ReportSources {
  regionCode: string;
  comparedSource: FiguresSource | null;
  region: ReportUnit;
  /** The regions directly below, by code. */
  childRegions: ReportUnit[];
  belowThreshold: BelowThreshold[];
}

/**
 * A period's figures of region trees: its snapshot when there is one;
 * otherwise the live figures, but only for the current month (or no period):
 * a past month without a snapshot cannot be reconstructed (null). With
 * `departments: false`, the regions alone (each tree's region and its child
 * regions).
 */
async function sidesOf(
  em: EntityManager,
  regionCodes: readonly string[],
  period: string | null,
  { departments }: { departments: boolean },
): Promise<Map<string, ReportSide> | null> {
  const sides = (p: string, source: FiguresSource, capturedAt: Date | null, units: Map<string, UnitWithFigures[]>) =>
    new Map(regionCodes.map((code) => [code, { period: p, source, capturedAt, units: units.get(code) ?? [] }]));
  if (period !== null) {
    const snapshot = await snapshotService.find(em, period);
    // A captured month depends on its snapshot alone; only without one does the clock (which month is current) enter.
    if (snapshot)
      return sides(period, FiguresSource.SNAPSHOT, snapshot.capturedAt, await snapshotService.unitsOfRegionTrees(em, period, regionCodes, { departments }));
    if (period !== currentPeriod()) return null;
  }
  const live = departments ? await unitFiguresService.ofRegionTrees(em, regionCodes) : await unitFiguresService.regionsOfTrees(em, regionCodes);
  return sides(period ?? currentPeriod(), FiguresSource.LIVE, null, live);
}

/** A period's text as requirePeriod reads it, or null when it is not one (requirePeriod reports it, in its turn). */
function periodOrNull(text: string): string | null {
  try {
    return requirePeriod(text, 'compared period');
  } catch {
    return null;
  }
}

/**
 * Ranks units among each other by each rate (highest first, ties by name,
 * then key): the child regions of a report. Its departments are ranked the
 * same way in SQL (report-departments.service.ts; a test holds the two equal).
 */
export function rankPeers(units: ReportUnit[], threshold: number): void {
  for (const metric of METRICS) {
    // Each unit's ratio once, not once per comparison.
    const ratios = new Map(units.map((u) => [u, ratioOf(u.figures, metric)]));
    const rated = units.filter((u) => ratios.get(u)!.denominator > 0);
    rated.sort((a, b) => compareRatesHighestFirst(ratios.get(a)!, ratios.get(b)!) || compareNames(a.name, b.name) || compareNames(a.key, b.key));
    const rankOf = new Map(rated.map((u, i) => [u, i + 1]));
    for (const unit of units) unit.ranks.push({ metric, rank: rankOf.get(unit) ?? null, of: rated.length, below: isBelow(ratios.get(unit)!, threshold) });
  }
}

/** The units below the threshold by a rate (as ranked by rankPeers), lowest rate first, ties by name, then key. */
export function lowestFirst(units: ReportUnit[], metric: RankingMetric): ReportUnit[] {
  return units
    .filter((u) => u.ranks.find((r) => r.metric === metric)?.below)
    .sort(
      (a, b) => compareRatesHighestFirst(ratioOf(b.figures, metric), ratioOf(a.figures, metric)) || compareNames(a.name, b.name) || compareNames(a.key, b.key),
    );
}

export const reportService = {
  /**
   * The units of a region tree in one period, without comparison: the
   * period's snapshot, or the live figures for the current month. NOT_FOUND
   * for another month without a snapshot. `live` (LIVE_PERIOD) in place of
   * a month: the live figures of the current month, as `Region.report`
   * without a period, even when the month has a snapshot.
   */
  async unitsOf(ctx: RequestContext, regionCode: string, periodText: string): Promise<{ region: Region; side: ReportSide }> {
    requireViewer(ctx);
    const period = isLivePeriod(periodText) ? null : requirePeriod(periodText);
    // Here, not only in GraphQL's input hygiene: a /reports URL (and the CLI) names the region too.
    const region = await ctx.em.findOne(Region, { code: identifierCode(regionCode) });
    if (!region) throw notFound(`There is no region with code ${regionCode}.`);
    const sides = await sidesOf(ctx.em, [region.code], period, { departments: true });
    if (!sides) await snapshotService.require(ctx.em, period!);
    return { region, side: sides!.get(region.code)! };
  },

  /**
   * The monthly report (通报) of a region: the figures of the period for the
   * region, each department in it and below it (their lists are read a page
   * at a time, reportDepartmentsService), and each child region; the
   * change against the compared period (counts as differences, rates in
   * percentage points); the rank of every department among the departments
   * and of every child region among the child regions by each rate; and the
   * units below the threshold. A constant number of statements whatever the
   * number of departments.
   */
  async forRegion(ctx: RequestContext, regionCode: string, options: ReportOptions = {}): Promise<RegionReport> {
    requireViewer(ctx);
    // Here, not only in GraphQL's input hygiene: a /reports URL (and the CLI) names the region too.
    const region = await ctx.em.findOne(Region, { code: identifierCode(regionCode) });
    if (!region) throw notFound(`There is no region with code ${regionCode}.`);
    const report = (await this.forRegions(ctx.em, [region], options)).get(region.code)!;
    if (report instanceof MuluError) throw report;
    return report;
  },

  /**
   * The reports of several regions with the same options, in the same fixed
   * number of statements as one (the regions' loader batches them).
   */
  async forRegions(em: EntityManager, regions: readonly RegionRow[], options: ReportOptions = {}): Promise<Map<string, RegionReport | MuluError>> {
    return this.figuresOf(em, regions, await this.sourcesOf(em, options));
  },

  /**
   * Where a report with these options comes from, whatever its region: the
   * period and its source, the compared month, the threshold, and so where
   * its departments come from. One round trip (the period's snapshot and the
   * compared one are looked up side by side), so that the department lists,
   * the longest statement of a report, can be sent beside the regions'
   * figures (figuresOf) instead of after them. The clock is read only when
   * no period is asked or the period has no snapshot (sidesOf does the same).
   */
  async sourcesOf(em: EntityManager, options: ReportOptions = {}): Promise<ReportSources> {
    const period = options.period ? requirePeriod(options.period) : null;
    const threshold = options.threshold ?? DEFAULT_THRESHOLD;
    if (!(threshold >= 0 && threshold <= 1)) throw badInput(`"threshold" is a rate between 0 and 1 (0.6 for 60%), got ${threshold}.`);
    // A side that exists is of the period asked (its snapshot, or live when it is the current month) or of the
    // current month, so the compared month is known before either is read.
    const sidePeriod = period ?? currentPeriod();
    const comparedAsked = options.comparedTo ? periodOrNull(options.comparedTo) : previousPeriod(sidePeriod);
    const [snapshot, comparedSnapshot] = await Promise.all([
      period !== null ? snapshotService.find(em, period) : null,
      comparedAsked !== null && comparedAsked < sidePeriod ? snapshotService.find(em, comparedAsked) : null,
    ]);
    // Errors in the order they were always reported: the period, then the compared period.
    if (period !== null && !snapshot && period !== currentPeriod()) await snapshotService.require(em, period);
    const explicitComparison = options.comparedTo ? requirePeriod(options.comparedTo, 'compared period') : null;
    const comparedTo = explicitComparison ?? previousPeriod(sidePeriod);
    if (comparedTo >= sidePeriod) throw badInput(`The compared period ${comparedTo} must be before ${sidePeriod}.`);
    if (!comparedSnapshot && explicitComparison) await snapshotService.require(em, comparedTo);
    const source = snapshot ? FiguresSource.SNAPSHOT : FiguresSource.LIVE;
    const compared = comparedSnapshot ? comparedTo : null;
    return {
      period: sidePeriod,
      source,
      capturedAt: snapshot?.capturedAt ?? null,
      comparedTo: compared,
      comparedCapturedAt: comparedSnapshot?.capturedAt ?? null,
      threshold,
      departments: { source, period: sidePeriod, comparedTo: compared, threshold },
    };
  },

  /**
   * The reports of regions from their sources (sourcesOf): the regions'
   * figures of the period and of the compared month, read side by side.
   */
  async figuresOf(em: EntityManager, regions: readonly RegionRow[], sources: ReportSources): Promise<Map<string, RegionReport | MuluError>> {
    const codes = regions.map((r) => r.code);
    const [now, before] = await Promise.all([
      sources.source === FiguresSource.SNAPSHOT
        ? snapshotService.unitsOfRegionTrees(em, sources.period, codes, { departments: false })
        : unitFiguresService.regionsOfTrees(em, codes),
      sources.comparedTo !== null
        ? snapshotService.unitsOfRegionTrees(em, sources.comparedTo, codes, { departments: false })
        : new Map<string, UnitWithFigures[]>(),
    ]);
    const { period: sidePeriod, threshold } = sources;

    const reports = new Map<string, RegionReport | MuluError>();
    for (const region of regions) {
      const units = now.get(region.code) ?? [];
      const previousOf = new Map((before.get(region.code) ?? []).map((u) => [`${u.kind}:${u.key}`, u.figures]));
      const toReportUnit = (u: UnitWithFigures): ReportUnit => {
        const previous = previousOf.get(`${u.kind}:${u.key}`) ?? null;
        return { kind: u.kind, key: u.key, name: u.name, figures: u.figures, previous, change: previous ? changeOf(u.figures, previous) : null, ranks: [] };
      };
      const regionUnit = units.find((u) => u.kind === ReportUnitKind.REGION && u.key === region.code);
      if (!regionUnit) {
        reports.set(region.code, notFound(`Region ${region.code} (${region.name}) was not in the snapshot of ${sidePeriod}.`));
        continue;
      }
      const childRegions = units
        .filter((u) => u.kind === ReportUnitKind.REGION && u.regionCode === region.code)
        .map(toReportUnit)
        .sort((a, b) => compareNames(a.key, b.key));
      rankPeers(childRegions, threshold);
      reports.set(region.code, {
        ...sources,
        regionCode: region.code,
        comparedSource: sources.comparedTo !== null ? FiguresSource.SNAPSHOT : null,
        region: toReportUnit(regionUnit),
        childRegions,
        belowThreshold: METRICS.map((metric) => ({ metric, childRegions: lowestFirst(childRegions, metric) })),
      });
    }
    return reports;
  },
};
