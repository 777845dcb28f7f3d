import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import { canReadLocatorsOf } from '../../core/permissions';
import type { MuluContext } from '../../graphql/context';
import { numericIdOf, toGlobalId } from '../../graphql/global-id';
import type { ResourceDirectory } from '../catalogue/directory.entity';
import type { DirectoryView } from '../catalogue/directory.service';
import { ResourceDirectoryType, toDirectoryRef } from '../catalogue/directory.types';
import { Mount } from './mount.entity';
import { mountService } from './mount.service';
import { mountRowsOfColumns, type MountRow } from './mount.row';
import { MountDatasetInput, MountType, RefreshMountInput, UnmountDatasetInput } from './mount.types';

/** Credit code of the department of a mount a mutation returns (an entity, which does not carry it as rows do). */
async function providerOf(mount: Mount, ctx: MuluContext): Promise<string> {
  const directory = (await ctx.loaders.directoryById.load(mount.directoryId))!;
  return (await ctx.loaders.departmentById.load(directory.department.id))!.creditCode;
}

@Resolver(() => MountType)
export class MountResolver {
  @Mutation(() => MountType, { nullable: true, description: 'Mounts a dataset on a directory.' })
  mountDataset(@Arg('input', () => MountDatasetInput, { description: 'The dataset.' }) input: MountDatasetInput, @Ctx() ctx: MuluContext): Promise<Mount> {
    return mountService.mount(ctx, { ...input, directory: toDirectoryRef(input.directory) });
  }

  @Mutation(() => MountType, { nullable: true, description: 'Records a refresh of a mounted dataset: new record count and time.' })
  refreshMount(@Arg('input', () => RefreshMountInput, { description: 'The refresh.' }) input: RefreshMountInput, @Ctx() ctx: MuluContext): Promise<Mount> {
    return mountService.refresh(ctx, { ...input, mountId: numericIdOf(input.mountId, 'Mount') });
  }

  @Mutation(() => MountType, { nullable: true, description: 'Unmounts a dataset; it is kept as history, inactive.' })
  unmountDataset(@Arg('input', () => UnmountDatasetInput, { description: 'The mount.' }) input: UnmountDatasetInput, @Ctx() ctx: MuluContext): Promise<Mount> {
    return mountService.unmount(ctx, numericIdOf(input.mountId, 'Mount'));
  }

  @FieldResolver(() => ID, { description: 'Globally unique, opaque ID (for `Query.node`).' })
  id(@Root() mount: MountRow): string {
    return toGlobalId('Mount', mount.id);
  }

  @FieldResolver(() => String, {
    nullable: true,
    description:
      "Where the data lives (table name, endpoint URL or file path); null unless the caller is a steward of the directory's department or an administrator.",
  })
  async locator(@Root() mount: MountRow | Mount, @Ctx() ctx: MuluContext): Promise<string | null> {
    const providerCreditCode = mount instanceof Mount ? await providerOf(mount, ctx) : mount.providerCreditCode;
    return canReadLocatorsOf(ctx.viewer, providerCreditCode) ? mount.locator : null;
  }

  @FieldResolver(() => ResourceDirectoryType, { description: 'The directory the dataset is mounted on.' })
  async directory(@Root() mount: MountRow, @Ctx() ctx: MuluContext): Promise<ResourceDirectory> {
    return (await ctx.loaders.directoryById.load(mount.directoryId))!;
  }
}

/** ResourceDirectory.mounts: the mounts module adds its list to the directory type. */
@Resolver(() => ResourceDirectoryType)
export class DirectoryMountsResolver {
  @FieldResolver(() => [MountType], { description: 'Datasets mounted on the directory, oldest first.' })
  mounts(
    @Root() directory: DirectoryView,
    @Arg('includeInactive', () => Boolean, { defaultValue: false, description: 'Also list unmounted datasets (history).' }) includeInactive: boolean,
    @Ctx() ctx: MuluContext,
  ): MountRow[] | Promise<MountRow[]> {
    // A catalogue page read its directories' active mounts with them (directory.service.ts, PAGE_COLUMNS).
    if (!includeInactive && directory.page) return mountRowsOfColumns(ctx.em, directory.page.activeMounts);
    return ctx.loaders.mountsOfDirectory.load({ directoryId: directory.id, includeInactive });
  }
}
