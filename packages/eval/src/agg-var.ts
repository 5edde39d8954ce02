import { defineExplainer, type Explainer } from '@xlens/core';
import {
  type AggregationOptions,
  aggregate,
  aggregationDefaults,
  aggregationSpecs,
  validateAggregation,
} from './internal/aggregate.js';

/**
 * Rieger & Hansen, 2020, "Aggregating explanation methods for stable and robust explainability",
 * arXiv:1903.00519. AGG-Var: the per-pixel variance (over the methods) of several methods'
 * normalised maps — where they disagree. Zero where all methods agree, so identical maps give an
 * all-zero map. Registered like any method.
 */
export const aggVar: Explainer<AggregationOptions> = defineExplainer<AggregationOptions>({
  id: 'agg-var',
  family: 'other',
  title: 'AGG-Var',
  citation:
    'Rieger & Hansen, 2020, Aggregating explanation methods for stable and robust explainability, arXiv:1903.00519',
  description: 'Variance across methods of their normalised maps.',
  requires: [],
  mapKind: 'pixel',
  defaults: aggregationDefaults,
  options: aggregationSpecs,
  validate(options, model, input) {
    validateAggregation('agg-var', options, model, input);
  },
  attribute(ctx) {
    return aggregate(ctx, 'variance');
  },
});
