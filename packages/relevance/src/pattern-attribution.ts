import { defineExplainer } from '@xlens/core';
import {
  type PatternOptions,
  patternDefaults,
  patternOptionSpecs,
  patternRules,
  patternWeights,
  resolvePatterns,
  validatePatterns,
} from './pattern-options.js';
import { type ConservationExtras, conservationExtras, relevanceRun, scoreWarnings } from './relevance-run.js';

/** Options of `pattern-attribution`. */
export type PatternAttributionOptions = PatternOptions;

/**
 * Kindermans, Schütt, Alber, Müller, Erhan, Kim & Dähne, 2018, "Learning how to explain neural
 * networks: PatternNet and PatternAttribution", ICLR, arXiv:1705.05598.
 *
 * PatternAttribution: the backward pass of the target logit through `w ⊙ a` (weights times fitted
 * patterns) instead of `w`, times the input: a relevance map in which distractor directions the
 * weights cancel do not appear. Weights are read through the `weights` capability.
 */
export const patternAttribution = defineExplainer<
  PatternAttributionOptions,
  ConservationExtras,
  'pattern-attribution'
>({
  id: 'pattern-attribution',
  family: 'relevance',
  title: 'PatternAttribution',
  citation: 'Kindermans et al., 2018, ICLR, arXiv:1705.05598',
  description:
    'How much each input value contributes to the target through its signal component, with weights corrected by learned patterns.',
  requires: ['layers', 'gradients', 'linear-rules', 'weights'],
  mapKind: 'input',
  defaults: patternDefaults,
  options: patternOptionSpecs,
  validate(options, model, input) {
    validatePatterns(model, options, input, 'pattern-attribution');
  },
  async attribute(ctx) {
    const { patterns, warnings } = await resolvePatterns(ctx);
    const weights = await patternWeights(ctx.model, patterns, ctx.method);
    const run = await relevanceRun(ctx, patternRules(patterns, weights));
    return { map: run.map, extras: conservationExtras(run), warnings: [...warnings, ...scoreWarnings(ctx)] };
  },
});
