import { MetricRegistry } from '@xlens/core';
import { evalMetrics } from '@xlens/eval';

/** A fresh registry with every evaluation metric the installed xlens packages export. */
export function createMetricRegistry(): MetricRegistry {
  return new MetricRegistry(evalMetrics);
}

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
