import { defineExplainer } from '@xlens/core';
import { type LrpMethodOptions, lrpOptionSpecs } from './lrp-options.js';
import {
  type ConservationExtras,
  conservationExtras,
  conservationWarnings,
  relevanceRun,
  scoreWarnings,
} from './relevance-run.js';
import { deferRuleFile, lrpRuleDefaults, resolveLrpRules } from './resolve-rules.js';

/** Options of `lrp`. */
export type LrpOptions = LrpMethodOptions;

/**
 * Bach, Binder, Montavon, Klauschen, Müller & Samek, 2015, "On pixel-wise explanations for
 * non-linear classifier decisions by layer-wise relevance propagation", PLoS ONE,
 * doi:10.1371/journal.pone.0130140; composites after Kohlbrenner et al., 2020,
 * doi:10.1109/IJCNN48605.2020.9206975.
 *
 * The target's logit is redistributed layer by layer down to the input, with a rule per linear
 * layer chosen by a composite (default `epsilon-plus`) and overridden by a rule map. Runs as one
 * modified backward pass: the backend compiles the rules. `extras.conservationGap` is
 * Σ relevance − logit per item (zero for LRP-0 on bias-free ReLU nets; biases and ε absorb some);
 * a warning says when it exceeds 10% of the logit.
 */
export const lrp = defineExplainer<LrpOptions, ConservationExtras, 'lrp'>({
  id: 'lrp',
  family: 'relevance',
  title: 'Layer-wise Relevance Propagation',
  citation: 'Bach et al., 2015, PLoS ONE, doi:10.1371/journal.pone.0130140',
  description:
    'How much each input value contributes to the target logit, redistributed layer by layer; the values sum to the logit up to what biases and stabilisers absorb.',
  requires: ['layers', 'gradients', 'linear-rules'],
  mapKind: 'input',
  defaults: { ...lrpRuleDefaults, composite: 'epsilon-plus' },
  options: lrpOptionSpecs,
  validate(options, model, input) {
    resolveLrpRules(model, deferRuleFile(options), input, 'lrp');
  },
  async attribute(ctx) {
    const rules = resolveLrpRules(ctx.model, ctx.options, ctx.input, ctx.method, ctx.files);
    const run = await relevanceRun(ctx, rules);
    const hint = ctx.options.ignoreBias ? null : 'ignoreBias: true keeps what biases take';
    return {
      map: run.map,
      extras: conservationExtras(run),
      warnings: [...scoreWarnings(ctx), ...conservationWarnings(ctx, run, hint)],
    };
  },
});
