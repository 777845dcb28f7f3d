import { ResourceDirectory } from '../modules/catalogue/directory.entity';
import { Department } from '../modules/departments/department.entity';
import { Mount } from '../modules/mounts/mount.entity';
import { Region, RegionClosure } from '../modules/regions/region.entity';
import { ApiKey } from '../modules/auth/api-key.entity';
import { AuditEntry } from '../modules/audit/audit.entity';
import { SubscriptionRequest } from '../modules/subscriptions/subscription.entity';
import { DepartmentFigures, RegionFigures } from '../modules/stats/department-figures.entity';
import { SupervisionMainItem, SupervisionRecord, SupervisionSubItem } from '../modules/supervision/supervision.entity';
import { ReportSnapshot, ReportSnapshotUnit } from '../modules/reports/report-snapshot.entity';
import { DatasetAccess, DatasetLoad } from '../modules/sharing/dataset.entity';
import { NotificationEventRow, Webhook, WebhookDelivery } from '../modules/notifications/webhook.entity';

/** Every entity, listed once: discovery by folder scanning differs between ts and compiled js. */
export const entities = [
  Region,
  RegionClosure,
  Department,
  ResourceDirectory,
  Mount,
  ApiKey,
  AuditEntry,
  SubscriptionRequest,
  SupervisionMainItem,
  SupervisionSubItem,
  SupervisionRecord,
  DepartmentFigures,
  RegionFigures,
  ReportSnapshot,
  ReportSnapshotUnit,
  DatasetLoad,
  DatasetAccess,
  Webhook,
  NotificationEventRow,
  WebhookDelivery,
];
