import type { EntityManager } from '@mikro-orm/postgresql';
import type { EntityChange, Mutation, MutationSubscriber } from '../../core/unit-of-work';
import { ResourceDirectory } from '../catalogue/directory.entity';
import { Department } from '../departments/department.entity';
import { Mount } from '../mounts/mount.entity';
import { Region } from '../regions/region.entity';
import { SubscriptionRequest } from '../subscriptions/subscription.entity';
import { SupervisionMainItem, SupervisionRecord, SupervisionSubItem } from '../supervision/supervision.entity';
import { departmentFiguresService } from './department-figures.service';

/** The sections of department_figures, each recounted by its own statement. */
type Section = 'catalogue' | 'supervision' | 'subscriptions';

/** Which section a table's rows feed; rows written by plain SQL are named by table (mutation.wroteRows). */
const SECTION_OF_TABLE: Record<string, Section> = {
  resource_directory: 'catalogue',
  mount: 'catalogue',
  subscription_request: 'subscriptions',
  supervision_main_item: 'supervision',
  supervision_sub_item: 'supervision',
  supervision_record: 'supervision',
};

const idOf = (ref: { id: number } | null | undefined) => ref?.id;

/**
 * Keeps department_figures (and region_figures, through their trigger)
 * exact: recounts the sections of the departments whose rows a mutation
 * changed, in the mutation's transaction, after its last flush. Fed by the
 * changes of the other modules; none of them calls the statistics.
 */
export class FiguresSubscriber implements MutationSubscriber {
  async beforeMutationCommit(em: EntityManager, mutation: Mutation): Promise<void> {
    const touched: Record<Section, Set<number>> = { catalogue: new Set(), supervision: new Set(), subscriptions: new Set() };
    const mountedDirectories = new Set<number>();
    for (const change of mutation.changes) {
      if (change.type === 'create' && change.entity instanceof Region) await departmentFiguresService.createRegion(em, change.entity.code);
      if (change.type === 'create' && change.entity instanceof Department) await departmentFiguresService.create(em, change.entity.id);
      for (const [section, id] of departmentsOf(change)) touched[section].add(id);
      if (change.entity instanceof Mount) mountedDirectories.add(change.entity.directory.id);
    }
    for (const [table, ids] of mutation.sqlWrites) {
      const section = SECTION_OF_TABLE[table];
      if (!section) throw new Error(`wroteRows: table ${table} feeds no figure section`);
      for (const id of ids) touched[section].add(id);
    }
    for (const id of await departmentsOfDirectories(em, mountedDirectories)) touched.catalogue.add(id);
    const sorted = (ids: Set<number>) => [...ids].sort((a, b) => a - b);
    if (touched.catalogue.size) await departmentFiguresService.refreshCatalogue(em, sorted(touched.catalogue));
    if (touched.supervision.size) await departmentFiguresService.refreshSupervision(em, sorted(touched.supervision));
    if (touched.subscriptions.size) await departmentFiguresService.refreshSubscriptions(em, sorted(touched.subscriptions));
  }
}

/** The departments (and sections) whose figures one entity change can move. */
function departmentsOf(change: EntityChange): [Section, number][] {
  const entity = change.entity;
  const ids = (section: Section, ...refs: ({ id: number } | undefined)[]) =>
    refs
      .map(idOf)
      .filter((id): id is number => id != null)
      .map((id): [Section, number] => [section, id]);
  if (entity instanceof ResourceDirectory) return ids('catalogue', entity.department);
  if (entity instanceof SubscriptionRequest) return ids('subscriptions', entity.requester, entity.provider);
  if (entity instanceof SupervisionMainItem || entity instanceof SupervisionSubItem || entity instanceof SupervisionRecord)
    return ids('supervision', entity.department);
  return [];
}

/** Departments of mounted-on directories: from the identity map, or one statement for the rest. */
async function departmentsOfDirectories(em: EntityManager, directoryIds: Set<number>): Promise<number[]> {
  const found: number[] = [];
  const missing: number[] = [];
  for (const id of directoryIds) {
    const directory = em.getUnitOfWork().getById<ResourceDirectory>(ResourceDirectory.name, id);
    const departmentId = directory?.department?.id;
    if (departmentId != null) found.push(departmentId);
    else missing.push(id);
  }
  if (missing.length) {
    const rows: { department_id: number }[] = await em.execute(`select distinct department_id from resource_directory where id in (?)`, [missing]);
    found.push(...rows.map((row) => row.department_id));
  }
  return found;
}
