import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { MuluContext } from '../../graphql/context';
import { DepartmentType } from '../departments/department.types';
import { RegionType } from '../regions/region.types';
import { MountStatsType } from './stats.types';
import type { RegionRow } from '../regions/region.row';
import type { DepartmentRow } from '../departments/department.row';

@Resolver(() => RegionType)
export class RegionStatsResolver {
  @FieldResolver(() => MountStatsType, { description: 'Mount figures of every department in this region and all regions below it.' })
  mountStats(@Root() region: RegionRow, @Ctx() ctx: MuluContext): MountStatsType | Promise<MountStatsType> {
    return ctx.loaders.figuresOfRegion.read(region, (figures) => new MountStatsType(figures.mount));
  }
}

@Resolver(() => DepartmentType)
export class DepartmentStatsResolver {
  @FieldResolver(() => MountStatsType, { description: "Mount figures of the department's published directories." })
  mountStats(@Root() department: DepartmentRow, @Ctx() ctx: MuluContext): MountStatsType | Promise<MountStatsType> {
    return ctx.loaders.figuresOfDepartment.read(department, (figures) => new MountStatsType(figures.mount));
  }
}
