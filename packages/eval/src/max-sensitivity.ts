import { defineMetric, type Metric } from '@xlens/core';
import {
  type SensitivityOptions,
  sensitivity,
  sensitivityDefaults,
  sensitivitySpecs,
} from './internal/sensitivity.js';

/** Options of `maxSensitivity`. */
export type MaxSensitivityOptions = SensitivityOptions;

/**
 * Yeh, Hsieh, Suggala, Inouye & Ravikumar, 2019, "On the (In)fidelity and Sensitivity of
 * Explanations", NeurIPS, arXiv:1901.09392. SENS_MAX = max over ‖δ‖∞ ≤ r of ‖φ(x + δ) − φ(x)‖₂,
 * estimated by Monte Carlo with `samples` uniform draws (shared by every item, scaled to each
 * item's value range). Lower is better. Quantus divides by ‖φ(x)‖ and normalises maps by their
 * maximum first: `relative` and `normalize`.
 */
export const maxSensitivity: Metric<MaxSensitivityOptions> = defineMetric<MaxSensitivityOptions>({
  id: 'max-sensitivity',
  category: 'robustness',
  title: 'Max-sensitivity',
  citation:
    'Yeh, Hsieh, Suggala, Inouye & Ravikumar, 2019, On the (In)fidelity and Sensitivity of Explanations, NeurIPS, arXiv:1901.09392',
  description: 'Largest change of the map under small uniform input noise.',
  needs: ['model', 'explainer'],
  requires: [],
  direction: 'lower',
  range: [0, Number.POSITIVE_INFINITY],
  stochastic: true,
  defaults: sensitivityDefaults,
  options: sensitivitySpecs,
  compute(ctx) {
    return sensitivity(ctx, 'max');
  },
});
