import { mergeOptions, OptionError } from '@xlens/core';
import { datasetFingerprint } from './dataset.js';
import { modelFingerprint } from './model-source.js';
import { checkPlan, type EvaluationPlan } from './plan.js';
import { runnerMetricRegistry, runnerRegistry } from './registries.js';

/** A plan before its fingerprints are taken. */
export type PlanInput = Omit<EvaluationPlan, 'fingerprint'>;

/**
 * Check a plan against the registries (every method and metric known, options valid) and take
 * the content fingerprints of its model and data set, as the coordinator does once.
 */
export async function makePlan(input: PlanInput): Promise<EvaluationPlan> {
  const methods = runnerRegistry();
  const metrics = runnerMetricRegistry();
  for (const m of input.methods) {
    const e = methods.get(m.id);
    mergeOptions(e.id, e.defaults, e.options, { ...m.options });
  }
  for (const s of input.metrics) {
    const metric = metrics.get(s.id);
    mergeOptions(metric.id, metric.defaults, metric.options, { ...s.options });
    if (metric.needs.includes('reference') && input.methods.length < 2)
      throw new OptionError(
        'invalid-option',
        `${metric.id} compares each method with the first one: give two or more methods`,
      );
  }
  const plan: EvaluationPlan = {
    ...input,
    fingerprint: { model: modelFingerprint(input.model), dataset: await datasetFingerprint(input.dataset) },
  };
  checkPlan(plan);
  return plan;
}
