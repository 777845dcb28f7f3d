import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';
import { rowLoader } from '../../graphql/loader-factories';
import { mountRowsByIds, mountRowsOfDirectories, type MountRow } from './mount.row';

export function createMountLoaders(em: EntityManager) {
  /** Mounts per directory; keys carry whether unmounted ones are wanted. */
  const mountsOfDirectory = new DataLoader<{ directoryId: number; includeInactive: boolean }, MountRow[], string>(
    async (keys) => {
      const includeInactive = keys.some((key) => key.includeInactive);
      const byDirectory = new Map<number, MountRow[]>();
      for (const mount of await mountRowsOfDirectories(em, [...new Set(keys.map((key) => key.directoryId))], includeInactive)) {
        const list = byDirectory.get(mount.directoryId);
        if (list) list.push(mount);
        else byDirectory.set(mount.directoryId, [mount]);
      }
      return keys.map((key) => {
        const mounts = byDirectory.get(key.directoryId) ?? [];
        return key.includeInactive || !includeInactive ? mounts : mounts.filter((m) => m.active);
      });
    },
    { cacheKeyFn: (key) => `${key.directoryId}:${key.includeInactive}` },
  );
  return {
    mountById: rowLoader(
      (ids: readonly number[]) => mountRowsByIds(em, ids),
      (m) => m.id,
    ),
    mountsOfDirectory,
  };
}
