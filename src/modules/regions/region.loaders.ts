import type { EntityManager } from '@mikro-orm/postgresql';
import { listLoader, rowLoader } from '../../graphql/loader-factories';
import { Region } from './region.entity';
import { regionService } from './region.service';

export function createRegionLoaders(em: EntityManager) {
  return {
    regionByCode: rowLoader<string, Region>(
      (codes) => em.find(Region, { code: { $in: [...codes] } }),
      (r) => r.code,
    ),
    childRegions: listLoader<string, Region>(
      (codes) => regionService.childrenOf(em, codes),
      (r) => r.parent!.unwrap().code,
    ),
  };
}
