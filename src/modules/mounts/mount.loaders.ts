import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { rowLoader } from '../../graphql/loader-factories';
import type { Mount } from './mount.entity';
import { mountService } from './mount.service';

export function createMountLoaders(em: EntityManager) {
  /** Mounts per directory; keys carry whether unmounted ones are wanted. */
  const mountsOfDirectory = new DataLoader<{ directoryId: number; includeInactive: boolean }, Mount[], string>(
    async (keys) => {
      const includeInactive = keys.some((key) => key.includeInactive);
      const mounts = await mountService.mountsOf(em, [...new Set(keys.map((key) => key.directoryId))], includeInactive);
      return keys.map((key) => mounts.filter((m) => m.directory.id === key.directoryId && (key.includeInactive || m.active)));
    },
    { cacheKeyFn: (key) => `${key.directoryId}:${key.includeInactive}` },
  );
  return {
    mountById: rowLoader(
      (ids: readonly number[]) => mountService.byIds(em, ids),
      (m) => m.id,
    ),
    mountsOfDirectory,
  };
}
