import type { MetricRegistry } from '@xlens/core';
import { runnerMetricRegistry } from '@xlens/runner';

/** A fresh registry with every evaluation metric the installed xlens packages export (the runner's). */
export const createMetricRegistry = runnerMetricRegistry;

/**
 * The metrics `xlens evaluate` runs when none is named: everything the data allows except the
 * robustness metrics, which re-run the explainer many times.
 */
export function defaultMetricIds(registry: MetricRegistry): string[] {
  return registry
    .list()
    .filter((m) => !m.needs.includes('explainer'))
    .map((m) => m.id);
}
