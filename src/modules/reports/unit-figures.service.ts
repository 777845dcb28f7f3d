import type { EntityManager } from '@mikro-orm/postgresql';
import { emptyUnitFigures, figuresService } from '../stats/figures.service';
import { ReportUnitKind, type UnitFigures } from './report-snapshot.entity';

/** A unit of a report with its figures, from a snapshot or live. */
export interface UnitWithFigures {
  kind: ReportUnitKind;
  /** Credit code of a department, code of a region. */
  key: string;
  name: string;
  /** A department's region, a region's parent. */
  regionCode: string | null;
  figures: UnitFigures;
}

/** Keeps the number of bound parameters of one statement well below PostgreSQL's 65,535. */
const BATCH = 5000;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += BATCH) out.push(items.slice(i, i + BATCH));
  return out;
}

interface DepartmentRow {
  id: number;
  credit_code: string;
  name: string;
  region_code: string;
}

interface RegionRow {
  code: string;
  name: string;
  parent_code: string | null;
}

/**
 * Live figures of units through the statistics' batch reader: one statement
 * per 5,000 departments and one per 5,000 regions, whatever the number of
 * units.
 */
export const unitFiguresService = {
  /** The departments with their live figures, in the order given. */
  async ofDepartments(em: EntityManager, departments: readonly DepartmentRow[]): Promise<UnitWithFigures[]> {
    const out: UnitWithFigures[] = [];
    for (const part of chunks(departments)) {
      const ids = part.map((d) => d.id);
      const figures = await figuresService.forDepartments(em, ids);
      for (const d of part) {
        out.push({
          kind: ReportUnitKind.DEPARTMENT,
          key: d.credit_code,
          name: d.name,
          regionCode: d.region_code,
          figures: figures.get(d.id) ?? emptyUnitFigures(),
        });
      }
    }
    return out;
  },

  /** The regions with their live figures, in the order given. */
  async ofRegions(em: EntityManager, regions: readonly RegionRow[]): Promise<UnitWithFigures[]> {
    const out: UnitWithFigures[] = [];
    for (const part of chunks(regions)) {
      const codes = part.map((r) => r.code);
      const figures = await figuresService.forRegions(em, codes);
      for (const r of part) {
        out.push({
          kind: ReportUnitKind.REGION,
          key: r.code,
          name: r.name,
          regionCode: r.parent_code,
          figures: figures.get(r.code) ?? emptyUnitFigures(),
        });
      }
    }
    return out;
  },

  /** Every department and region, live: what a snapshot captures. */
  async everything(em: EntityManager): Promise<UnitWithFigures[]> {
    const departments: DepartmentRow[] = await em.execute(`select id, credit_code, name, region_code from department order by id`);
    const regions: RegionRow[] = await em.execute(`select code, name, parent_code from region order by code`);
    return [...(await this.ofRegions(em, regions)), ...(await this.ofDepartments(em, departments))];
  },

  /** For each region: itself and its child regions, live; two statements however many regions are asked. */
  async regionsOfTrees(em: EntityManager, regionCodes: readonly string[]): Promise<Map<string, UnitWithFigures[]>> {
    const codes = [...regionCodes];
    const regions: RegionRow[] = await em.execute(`select code, name, parent_code from region where code in (?) or parent_code in (?) order by code`, [
      codes,
      codes,
    ]);
    const units = await this.ofRegions(em, regions);
    return new Map(codes.map((code) => [code, units.filter((u) => u.key === code || u.regionCode === code)]));
  },

  /**
   * For each region: itself, its child regions and every department in it
   * and below it, live. Each unit's figures are read once, in the same few
   * grouped statements, however many regions are asked.
   */
  async ofRegionTrees(em: EntityManager, regionCodes: readonly string[]): Promise<Map<string, UnitWithFigures[]>> {
    const codes = [...regionCodes];
    const departments: (DepartmentRow & { tree: string })[] = await em.execute(
      `select rc.ancestor_code as tree, d.id, d.credit_code, d.name, d.region_code from department d
         join region_closure rc on rc.descendant_code = d.region_code
        where rc.ancestor_code in (?) order by d.id`,
      [codes],
    );
    const regions: RegionRow[] = await em.execute(`select code, name, parent_code from region where code in (?) or parent_code in (?) order by code`, [
      codes,
      codes,
    ]);
    const unique = [...new Map(departments.map((d) => [d.id, d])).values()];
    const departmentUnits = new Map((await this.ofDepartments(em, unique)).map((u) => [u.key, u]));
    const regionUnits = await this.ofRegions(em, regions);
    return new Map(
      codes.map((code) => [
        code,
        [
          ...regionUnits.filter((u) => u.key === code || u.regionCode === code),
          ...departments.filter((d) => d.tree === code).map((d) => departmentUnits.get(d.credit_code)!),
        ],
      ]),
    );
  },
};
