import type { StepFactory } from './generate';

/**
 * Generator steps for features that live on other branches, added as they
 * land on main:
 * - supervision (main items, sub-items, records, sub-item record counters);
 * - subscriptions (subscription requests).
 */
export const EXTRA_STEPS: StepFactory[] = [];
