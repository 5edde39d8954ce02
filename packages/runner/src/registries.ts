import { camMethods } from '@xlens/cam';
import { type AnyExplainer, MetricRegistry, Registry } from '@xlens/core';
import { aggregationMethods, evalMetrics } from '@xlens/eval';
import { gradientMethods } from '@xlens/gradients';
import { perturbationMethods } from '@xlens/perturbation';
import { relevanceMethods } from '@xlens/relevance';

/** Every method of the installed xlens method packages (the same set as the `xlens` command's). */
export function runnerRegistry(): Registry {
  return new Registry([
    ...gradientMethods,
    ...camMethods,
    ...relevanceMethods,
    ...perturbationMethods,
    ...aggregationMethods,
  ] as readonly AnyExplainer[]);
}

/** Every metric of `@xlens/eval`. */
export function runnerMetricRegistry(): MetricRegistry {
  return new MetricRegistry(evalMetrics);
}
