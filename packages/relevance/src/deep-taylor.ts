import { defineExplainer, type OptionSpecs } from '@xlens/core';
import { lrpOptionSpecs } from './lrp-options.js';
import {
  type ConservationExtras,
  conservationExtras,
  conservationWarnings,
  relevanceRun,
  scoreWarnings,
} from './relevance-run.js';
import { type BoundOption, lrpRuleDefaults, resolveLrpRules } from './resolve-rules.js';

/** Options of `deep-taylor`. */
export interface DeepTaylorOptions {
  /** Rule at the input layer: `z-box` for bounded inputs (pixels), `w-square` for unbounded ones. */
  readonly inputRule: 'z-box' | 'w-square';
  /** Lower input bound for `z-box`, a number or one per channel; null: `info.inputRange`. */
  readonly low: BoundOption;
  /** Upper input bound for `z-box`; null: `info.inputRange`. */
  readonly high: BoundOption;
  readonly maxPool: 'winner' | 'proportional';
  readonly foldBatchNorm: boolean;
}

/**
 * Montavon, Lapuschkin, Binder, Samek & Müller, 2017, "Explaining nonlinear classification
 * decisions with deep Taylor decomposition", Pattern Recognition 65, doi:10.1016/j.patcog.2016.11.008.
 *
 * Deep Taylor decomposition of ReLU nets: the z⁺ rule on every layer above the input (root points
 * on the positive orthant) and, at the input, z^B for bounded inputs or w² for unbounded ones.
 * It is conservative up to what biases absorb (`extras.conservationGap`).
 */
export const deepTaylor = defineExplainer<DeepTaylorOptions, ConservationExtras, 'deep-taylor'>({
  id: 'deep-taylor',
  family: 'relevance',
  title: 'Deep Taylor Decomposition',
  citation: 'Montavon et al., 2017, Pattern Recognition 65, doi:10.1016/j.patcog.2016.11.008',
  description:
    'Positive evidence for the target, decomposed layer by layer with the z⁺ rule and a box or w² rule at the input.',
  requires: ['layers', 'gradients', 'linear-rules'],
  mapKind: 'input',
  defaults: { inputRule: 'z-box', low: null, high: null, maxPool: 'winner', foldBatchNorm: true },
  options: {
    inputRule: {
      type: 'enum',
      doc: 'rule at the input layer: z-box (bounded inputs) or w-square (unbounded)',
      values: ['z-box', 'w-square'],
    },
    low: lrpOptionSpecs.low,
    high: lrpOptionSpecs.high,
    maxPool: lrpOptionSpecs.maxPool,
    foldBatchNorm: lrpOptionSpecs.foldBatchNorm,
  } satisfies OptionSpecs<DeepTaylorOptions>,
  validate(options, model, input) {
    resolveLrpRules(model, ruleOptions(options), input, 'deep-taylor');
  },
  async attribute(ctx) {
    const rules = resolveLrpRules(ctx.model, ruleOptions(ctx.options), ctx.input, ctx.method);
    const run = await relevanceRun(ctx, rules);
    return {
      map: run.map,
      extras: conservationExtras(run),
      // Deep Taylor's z⁺ rule is derived for ReLU layers with non-positive biases (Montavon et al., 2017).
      warnings: [...scoreWarnings(ctx), ...conservationWarnings(ctx, run, null)],
    };
  },
});

function ruleOptions(options: DeepTaylorOptions) {
  return {
    ...lrpRuleDefaults,
    ...options,
    composite: options.inputRule === 'z-box' ? 'z-plus-box' : 'z-plus-w-square',
  };
}
