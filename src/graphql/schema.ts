import { buildSchema } from 'type-graphql';
import type { GraphQLSchema } from 'graphql';
import { DepartmentDirectoriesResolver, DirectoryResolver, InformationItemResolver, RegionDirectoriesResolver } from '../modules/catalogue/directory.resolver';
import { DepartmentResolver, RegionDepartmentsResolver } from '../modules/departments/department.resolver';
import { DirectoryMountsResolver, MountResolver } from '../modules/mounts/mount.resolver';
import { RegionResolver } from '../modules/regions/region.resolver';
import { DepartmentStatsResolver, RegionStatsResolver } from '../modules/stats/stats.resolver';
import { NodeResolver } from './node.resolver';
import { clearLoadersAfterEachMutation } from './mutation-loaders';
import { applyInputHygiene, validateNestedInputs } from './input-hygiene';
import { stopResolversAtDeadline } from './execution-budget';
import { AuditResolver } from '../modules/audit/audit.resolver';
import { authChecker } from '../modules/auth/auth.guard';
import { AuthResolver } from '../modules/auth/auth.resolver';
import { DepartmentSubscriptionsResolver, RegionSubscriptionsResolver, SubscriptionRequestResolver } from '../modules/subscriptions/subscription.resolver';
import {
  DepartmentSupervisionResolver,
  RegionSupervisionResolver,
  SupervisionMainItemResolver,
  SupervisionSubItemResolver,
} from '../modules/supervision/supervision.resolver';
import { DepartmentSupervisionStatsResolver, RegionSupervisionStatsResolver } from '../modules/stats/supervision-stats.resolver';
import { RegionRankingResolver } from '../modules/stats/ranking.resolver';
import {
  DepartmentMonthsResolver,
  RegionMonthsResolver,
  RegionReportResolver,
  RegionReportTablesResolver,
  ReportBelowThresholdResolver,
  ReportSnapshotResolver,
} from '../modules/reports/report.resolver';
import { DatasetLoadResolver, DepartmentUsageResolver, DirectorySharingResolver, RegionUsageResolver } from '../modules/sharing/sharing.resolver';
import { WebhookDeliveryResolver, WebhookResolver } from '../modules/notifications/webhook.resolver';
import { LiveUpdatesResolver } from '../modules/notifications/live.resolver';

export const resolvers = [
  NodeResolver,
  RegionResolver,
  DepartmentResolver,
  RegionDepartmentsResolver,
  DirectoryResolver,
  DepartmentDirectoriesResolver,
  RegionDirectoriesResolver,
  InformationItemResolver,
  MountResolver,
  DirectoryMountsResolver,
  RegionStatsResolver,
  DepartmentStatsResolver,
  AuthResolver,
  AuditResolver,
  SubscriptionRequestResolver,
  DepartmentSubscriptionsResolver,
  RegionSubscriptionsResolver,
  SupervisionMainItemResolver,
  SupervisionSubItemResolver,
  DepartmentSupervisionResolver,
  RegionSupervisionResolver,
  RegionSupervisionStatsResolver,
  DepartmentSupervisionStatsResolver,
  RegionRankingResolver,
  ReportSnapshotResolver,
  RegionReportResolver,
  RegionReportTablesResolver,
  ReportBelowThresholdResolver,
  RegionMonthsResolver,
  DepartmentMonthsResolver,
  DatasetLoadResolver,
  DirectorySharingResolver,
  DepartmentUsageResolver,
  RegionUsageResolver,
  WebhookResolver,
  WebhookDeliveryResolver,
  LiveUpdatesResolver,
] as const;

/**
 * Builds the executable schema; `validate` turns on class-validator for every
 * input, and every root mutation clears the request's loaders once it has
 * written (mutation-loaders.ts).
 */
export async function buildMuluSchema(): Promise<GraphQLSchema> {
  validateNestedInputs();
  const schema = await buildSchema({
    resolvers,
    validate: { forbidUnknownValues: false },
    emitSchemaFile: false,
    // Who may do what: docs/security.md; the operation-wide check is accessPlugin (app.ts).
    authChecker,
    // Every subscription brings its own stream (`subscribe`, live.resolver.ts); type-graphql still asks for a PubSub.
    pubSub: {
      publish() {
        throw new Error('Mulu publishes through PostgreSQL notifications (live-updates.ts), not a type-graphql PubSub.');
      },
      subscribe() {
        throw new Error('Mulu subscriptions bring their own stream (live.resolver.ts).');
      },
    },
  });
  // Every text, date and input object a caller sends is cleaned and checked in one place (input-hygiene.ts);
  // past the request's deadline no resolver runs (execution-budget.ts).
  return stopResolversAtDeadline(applyInputHygiene(clearLoadersAfterEachMutation(schema)));
}
