import { defineMetric, type Metric } from '@xlens/core';
import {
  type SensitivityOptions,
  sensitivity,
  sensitivityDefaults,
  sensitivitySpecs,
} from './internal/sensitivity.js';

/** Options of `avgSensitivity`. */
export type AvgSensitivityOptions = SensitivityOptions;

/**
 * Yeh, Hsieh, Suggala, Inouye & Ravikumar, 2019, "On the (In)fidelity and Sensitivity of
 * Explanations", NeurIPS, arXiv:1901.09392. The mean over uniform perturbations ‖δ‖∞ ≤ r of
 * ‖φ(x + δ) − φ(x)‖₂ (Monte Carlo over `samples` draws shared by every item). Lower is better.
 * Quantus's `relative` and `normalize` choices are options.
 */
export const avgSensitivity: Metric<AvgSensitivityOptions> = defineMetric<AvgSensitivityOptions>({
  id: 'avg-sensitivity',
  category: 'robustness',
  title: 'Avg-sensitivity',
  citation:
    'Yeh, Hsieh, Suggala, Inouye & Ravikumar, 2019, On the (In)fidelity and Sensitivity of Explanations, NeurIPS, arXiv:1901.09392',
  description: 'Mean change of the map under small uniform input noise.',
  needs: ['model', 'explainer'],
  requires: [],
  direction: 'lower',
  range: [0, Number.POSITIVE_INFINITY],
  stochastic: true,
  defaults: sensitivityDefaults,
  options: sensitivitySpecs,
  compute(ctx) {
    return sensitivity(ctx, 'mean');
  },
});
