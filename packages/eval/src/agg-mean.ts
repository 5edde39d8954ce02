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
 * arXiv:1903.00519. AGG-Mean: the per-pixel mean of several methods' maps, each first scaled per
 * item (by its maximum magnitude by default) so no method dominates by its units. An explainer,
 * registered like any method (its `methods` are looked up in the run's registry), so it can be
 * evaluated like one. The mean of two identical normalised maps is that map.
 */
export const aggMean: Explainer<AggregationOptions> = defineExplainer<AggregationOptions>({
  id: 'agg-mean',
  family: 'other',
  title: 'AGG-Mean',
  citation:
    'Rieger & Hansen, 2020, Aggregating explanation methods for stable and robust explainability, arXiv:1903.00519',
  description: 'Mean of the normalised maps of several methods.',
  requires: [],
  mapKind: 'pixel',
  defaults: aggregationDefaults,
  options: aggregationSpecs,
  validate(options, model, input) {
    validateAggregation('agg-mean', options, model, input);
  },
  attribute(ctx) {
    return aggregate(ctx, 'mean');
  },
});
