import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, Int, Mutation, Resolver, Root } from 'type-graphql';
import type { MuluContext } from '../../graphql/context';
import { pageRequest, unitConnection } from '../../graphql/pagination';
import type { UnitKind } from '../../db/unit-lists';
import { RegionType } from '../regions/region.types';
import type { DepartmentRow } from '../departments/department.row';
import { DepartmentType } from '../departments/department.types';
import { supervisionRecordService, type IngestRecordsResult } from './supervision-record.service';
import type { SupervisionMainItem, SupervisionSubItem } from './supervision.entity';
import { supervisionService } from './supervision.service';
import {
  CreateSupervisionMainItemInput,
  CreateSupervisionSubItemInput,
  IngestSupervisionRecordsInput,
  IngestSupervisionRecordsResultType,
  MoveSupervisionSubItemInput,
  SupervisionMainItemConnection,
  SupervisionMainItemFilter,
  SupervisionMainItemType,
  SupervisionSubItemConnection,
  SupervisionSubItemFilter,
  SupervisionSubItemType,
} from './supervision.types';
import type { RegionRow } from '../regions/region.row';

/** Largest page of main items; a district department holds up to about a hundred. */
export const MAIN_ITEM_PAGE_LIMIT = 200;
/** Largest page of sub-items. */
export const SUB_ITEM_PAGE_LIMIT = 200;

@ArgsType()
class MainItemPageArgs {
  @Field(() => SupervisionMainItemFilter, { nullable: true, description: 'Narrows the list.' })
  filter?: SupervisionMainItemFilter | null;

  @Field(() => Int, { nullable: true, description: `How many main items (1 to ${MAIN_ITEM_PAGE_LIMIT}, default 20).` })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'Cursor after which the page starts.' })
  after?: string | null;
}

@ArgsType()
class SubItemPageArgs {
  @Field(() => SupervisionSubItemFilter, { nullable: true, description: 'Narrows the list.' })
  filter?: SupervisionSubItemFilter | null;

  @Field(() => Int, { nullable: true, description: `How many sub-items (1 to ${SUB_ITEM_PAGE_LIMIT}, default 20).` })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'Cursor after which the page starts.' })
  after?: string | null;
}

function mainItemsOfUnit(ctx: MuluContext, kind: UnitKind, unit: string | number, args: MainItemPageArgs) {
  const page = pageRequest(args.first, args.after, MAIN_ITEM_PAGE_LIMIT);
  const loaders = { list: ctx.loaders.supervisionMainItemsOfUnit, count: ctx.loaders.supervisionMainItemCountOfUnit };
  return unitConnection(loaders, kind, unit, page, { covered: args.filter?.covered ?? null });
}

function subItemsOfUnit(ctx: MuluContext, kind: UnitKind, unit: string | number, args: SubItemPageArgs) {
  const page = pageRequest(args.first, args.after, SUB_ITEM_PAGE_LIMIT);
  const loaders = { list: ctx.loaders.supervisionSubItemsOfUnit, count: ctx.loaders.supervisionSubItemCountOfUnit };
  return unitConnection(loaders, kind, unit, page, { covered: args.filter?.covered ?? null, category: args.filter?.category ?? null });
}

@Resolver(() => SupervisionMainItemType)
export class SupervisionMainItemResolver {
  @Mutation(() => SupervisionMainItemType, { nullable: true, description: 'Registers a supervision main item of a department.' })
  createSupervisionMainItem(
    @Arg('input', () => CreateSupervisionMainItemInput, { description: 'The main item.' }) input: CreateSupervisionMainItemInput,
    @Ctx() ctx: MuluContext,
  ) {
    return supervisionService.createMainItem(ctx, input);
  }

  @FieldResolver(() => DepartmentType, { description: 'The department the item belongs to.' })
  department(@Root() item: SupervisionMainItem, @Ctx() ctx: MuluContext): Promise<DepartmentRow | null> {
    return ctx.loaders.departmentById.load(item.department.id);
  }

  @FieldResolver(() => [SupervisionSubItemType], { description: 'Its sub-items, in registration order.' })
  subItems(@Root() item: SupervisionMainItem, @Ctx() ctx: MuluContext): Promise<SupervisionSubItem[]> {
    return ctx.loaders.supervisionSubItemsOfMainItem.load(item.id);
  }
}

@Resolver(() => SupervisionSubItemType)
export class SupervisionSubItemResolver {
  @Mutation(() => SupervisionSubItemType, { nullable: true, description: 'Registers a supervision sub-item under a main item of the same department.' })
  createSupervisionSubItem(
    @Arg('input', () => CreateSupervisionSubItemInput, { description: 'The sub-item.' }) input: CreateSupervisionSubItemInput,
    @Ctx() ctx: MuluContext,
  ) {
    return supervisionService.createSubItem(ctx, input);
  }

  @Mutation(() => SupervisionSubItemType, { nullable: true, description: 'Moves a sub-item to another main item of the same department; coverage follows it.' })
  moveSupervisionSubItem(
    @Arg('input', () => MoveSupervisionSubItemInput, { description: 'The move.' }) input: MoveSupervisionSubItemInput,
    @Ctx() ctx: MuluContext,
  ) {
    return supervisionService.moveSubItem(ctx, input);
  }

  @Mutation(() => IngestSupervisionRecordsResultType, {
    nullable: true,
    description:
      'Stores supervision records of one department, one or up to 10,000 per call, in one transaction. Safe to retry: records already stored are reported as duplicates and counted once; one sent again with other values is rejected, never rewritten.',
  })
  ingestSupervisionRecords(
    @Arg('input', () => IngestSupervisionRecordsInput, { description: 'The batch.' }) input: IngestSupervisionRecordsInput,
    @Ctx() ctx: MuluContext,
  ): Promise<IngestRecordsResult> {
    return supervisionRecordService.ingest(ctx, input);
  }

  @FieldResolver(() => Boolean, { description: 'Covered (已覆盖): at least one record counts.' })
  covered(@Root() item: SupervisionSubItem): boolean {
    return item.recordCount > 0;
  }

  @FieldResolver(() => SupervisionMainItemType, { description: 'The main item it belongs to.' })
  async mainItem(@Root() item: SupervisionSubItem, @Ctx() ctx: MuluContext): Promise<SupervisionMainItem> {
    return (await ctx.loaders.supervisionMainItemById.load(item.mainItem.id))!;
  }

  @FieldResolver(() => DepartmentType, { description: 'The department the item belongs to.' })
  department(@Root() item: SupervisionSubItem, @Ctx() ctx: MuluContext): Promise<DepartmentRow | null> {
    return ctx.loaders.departmentById.load(item.department.id);
  }
}

@Resolver(() => DepartmentType)
export class DepartmentSupervisionResolver {
  @FieldResolver(() => SupervisionMainItemConnection, {
    description: "The department's supervision main items, in registration order; `filter: { covered: false }` lists the uncovered ones.",
  })
  supervisionMainItems(@Root() department: DepartmentRow, @Args(() => MainItemPageArgs) args: MainItemPageArgs, @Ctx() ctx: MuluContext) {
    return mainItemsOfUnit(ctx, 'department', department.id, args);
  }

  @FieldResolver(() => SupervisionSubItemConnection, {
    description:
      "The department's supervision sub-items, in registration order; `filter: { covered: false }` lists those without a record (its to-do list), by category with `category`.",
  })
  supervisionSubItems(@Root() department: DepartmentRow, @Args(() => SubItemPageArgs) args: SubItemPageArgs, @Ctx() ctx: MuluContext) {
    return subItemsOfUnit(ctx, 'department', department.id, args);
  }
}

/** The drill-down behind a region's supervision figures: the items of every department in it and below it. */
@Resolver(() => RegionType)
export class RegionSupervisionResolver {
  @FieldResolver(() => SupervisionMainItemConnection, {
    description:
      'Supervision main items of every department in this region and in every region below it, in registration order; `filter: { covered: false }` lists the uncovered ones. `totalCount` equals the figure (mainItems, coveredMainItems).',
  })
  supervisionMainItems(@Root() region: RegionRow, @Args(() => MainItemPageArgs) args: MainItemPageArgs, @Ctx() ctx: MuluContext) {
    return mainItemsOfUnit(ctx, 'region', region.code, args);
  }

  @FieldResolver(() => SupervisionSubItemConnection, {
    description:
      'Supervision sub-items of every department in this region and in every region below it, in registration order; `filter: { covered: false, category: PENALTY }` lists the uncovered penalty sub-items. `totalCount` equals the figure (subItems, coveredSubItems, per category).',
  })
  supervisionSubItems(@Root() region: RegionRow, @Args(() => SubItemPageArgs) args: SubItemPageArgs, @Ctx() ctx: MuluContext) {
    return subItemsOfUnit(ctx, 'region', region.code, args);
  }
}
