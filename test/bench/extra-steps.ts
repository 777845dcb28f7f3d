import type { StepFactory } from './generate';
import { subscriptionSteps } from './generate-subscriptions';
import { supervisionSteps } from './generate-supervision';

/**
 * Generator steps for the features that came from other branches, run after
 * the foundation steps: supervision (main items, sub-items, records and the
 * sub-items' record counters) and subscription requests.
 */
export const EXTRA_STEPS: StepFactory[] = [supervisionSteps, subscriptionSteps];
