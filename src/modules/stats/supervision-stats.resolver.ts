import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { MuluContext } from '../../graphql/context';
import { DepartmentType } from '../departments/department.types';
import { RegionType } from '../regions/region.types';
import { SupervisionStatsType } from './supervision-stats.types';
import type { RegionRow } from '../regions/region.row';
import type { DepartmentRow } from '../departments/department.row';

@Resolver(() => RegionType)
export class RegionSupervisionStatsResolver {
  @FieldResolver(() => SupervisionStatsType, { description: 'Supervision coverage of every department in this region and all regions below it.' })
  supervisionStats(@Root() region: RegionRow, @Ctx() ctx: MuluContext): SupervisionStatsType | Promise<SupervisionStatsType> {
    return ctx.loaders.figuresOfRegion.read(region, (figures) => new SupervisionStatsType(figures.supervision));
  }
}

@Resolver(() => DepartmentType)
export class DepartmentSupervisionStatsResolver {
  @FieldResolver(() => SupervisionStatsType, { description: "Supervision coverage of the department's items." })
  supervisionStats(@Root() department: DepartmentRow, @Ctx() ctx: MuluContext): SupervisionStatsType | Promise<SupervisionStatsType> {
    return ctx.loaders.figuresOfDepartment.read(department, (figures) => new SupervisionStatsType(figures.supervision));
  }
}
