import type { StepFactory } from './generate';
import { subscriptionSteps } from './generate-subscriptions';

/**
 * Generator steps for features that came from other branches, after the
 * foundation steps:
 * - subscriptions (auth branch): subscription requests;
 * - SUPERVISION: main items, sub-items, records and the sub-items' record
 *   counters, added here once the supervision branch has landed on main.
 */
export const EXTRA_STEPS: StepFactory[] = [subscriptionSteps];
