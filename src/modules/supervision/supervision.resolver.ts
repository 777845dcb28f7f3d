import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, Int, Mutation, Resolver, Root } from 'type-graphql';
import type { MuluContext } from '../../graphql/context';
import { pageRequest, toConnection } from '../../graphql/pagination';
import type { Department } from '../departments/department.entity';
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
  SupervisionMainItemType,
  SupervisionSubItemType,
} from './supervision.types';

/** Largest page of main items; a district department holds up to about a hundred. */
export const MAIN_ITEM_PAGE_LIMIT = 200;

@ArgsType()
class MainItemPageArgs {
  @Field(() => Int, { nullable: true, description: `How many main items (1 to ${MAIN_ITEM_PAGE_LIMIT}, default 20).` })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'Cursor after which the page starts.' })
  after?: string | null;
}

@Resolver(() => SupervisionMainItemType)
export class SupervisionMainItemResolver {
  @Mutation(() => SupervisionMainItemType, { nullable: true, description: "Registers a supervision main item of a department." })
  createSupervisionMainItem(@Arg('input', () => CreateSupervisionMainItemInput, { description: 'The main item.' }) input: CreateSupervisionMainItemInput, @Ctx() ctx: MuluContext) {
    return supervisionService.createMainItem(ctx, input);
  }

  @FieldResolver(() => DepartmentType, { description: 'The department the item belongs to.' })
  async department(@Root() item: SupervisionMainItem, @Ctx() ctx: MuluContext): Promise<Department> {
    return (await ctx.loaders.departmentById.load(item.department.id))!;
  }

  @FieldResolver(() => [SupervisionSubItemType], { description: 'Its sub-items, in registration order.' })
  subItems(@Root() item: SupervisionMainItem, @Ctx() ctx: MuluContext): Promise<SupervisionSubItem[]> {
    return ctx.loaders.supervisionSubItemsOfMainItem.load(item.id);
  }
}

@Resolver(() => SupervisionSubItemType)
export class SupervisionSubItemResolver {
  @Mutation(() => SupervisionSubItemType, { nullable: true, description: 'Registers a supervision sub-item under a main item of the same department.' })
  createSupervisionSubItem(@Arg('input', () => CreateSupervisionSubItemInput, { description: 'The sub-item.' }) input: CreateSupervisionSubItemInput, @Ctx() ctx: MuluContext) {
    return supervisionService.createSubItem(ctx, input);
  }

  @Mutation(() => SupervisionSubItemType, { nullable: true, description: 'Moves a sub-item to another main item of the same department; coverage follows it.' })
  moveSupervisionSubItem(@Arg('input', () => MoveSupervisionSubItemInput, { description: 'The move.' }) input: MoveSupervisionSubItemInput, @Ctx() ctx: MuluContext) {
    return supervisionService.moveSubItem(ctx, input);
  }

  @Mutation(() => IngestSupervisionRecordsResultType, {
    nullable: true,
    description:
      'Stores supervision records of one department, one or up to 10,000 per call, in one transaction. Safe to retry: records already stored are reported as duplicates and counted once.',
  })
  ingestSupervisionRecords(@Arg('input', () => IngestSupervisionRecordsInput, { description: 'The batch.' }) input: IngestSupervisionRecordsInput, @Ctx() ctx: MuluContext): Promise<IngestRecordsResult> {
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
  async department(@Root() item: SupervisionSubItem, @Ctx() ctx: MuluContext): Promise<Department> {
    return (await ctx.loaders.departmentById.load(item.department.id))!;
  }
}

@Resolver(() => DepartmentType)
export class DepartmentSupervisionResolver {
  @FieldResolver(() => SupervisionMainItemConnection, { description: "The department's supervision main items, in registration order." })
  async supervisionMainItems(@Root() department: Department, @Args(() => MainItemPageArgs) args: MainItemPageArgs, @Ctx() ctx: MuluContext) {
    const page = pageRequest(args.first, args.after, MAIN_ITEM_PAGE_LIMIT);
    return toConnection(await ctx.loaders.supervisionMainItemsOfDepartment.load({ parent: department.id, page, filter: null }), page);
  }
}
