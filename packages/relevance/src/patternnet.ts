import { defineExplainer, type Extras } from '@xlens/core';
import {
  type PatternOptions,
  patternDefaults,
  patternOptionSpecs,
  patternRules,
  resolvePatterns,
  validatePatterns,
} from './pattern-options.js';
import { logitSeed, scoreWarnings } from './relevance-run.js';

/** Options of `patternnet`. */
export type PatternNetOptions = PatternOptions;

/**
 * Kindermans, Schütt, Alber, Müller, Erhan, Kim & Dähne, 2018, "Learning how to explain neural
 * networks: PatternNet and PatternAttribution", ICLR, arXiv:1705.05598.
 *
 * PatternNet: the backward pass of the target logit with every linear layer's weights replaced by
 * its fitted signal pattern `a` (see `fitPatterns`); ReLUs keep their forward mask. The map is the
 * estimated signal in input space, not a relevance.
 */
export const patternnet = defineExplainer<PatternNetOptions, Extras, 'patternnet'>({
  id: 'patternnet',
  family: 'relevance',
  title: 'PatternNet',
  citation: 'Kindermans et al., 2018, ICLR, arXiv:1705.05598',
  description:
    'The part of the input the model treats as signal for the target (rather than distractor), projected back through learned patterns.',
  requires: ['layers', 'gradients', 'linear-rules'],
  mapKind: 'input',
  defaults: patternDefaults,
  options: patternOptionSpecs,
  validate(options, model, input) {
    validatePatterns(model, options, input, 'patternnet');
  },
  async attribute(ctx) {
    const { patterns, warnings } = await resolvePatterns(ctx);
    const result = await ctx.gradient({
      input: ctx.input,
      rules: patternRules(patterns),
      cotangent: logitSeed(ctx),
    });
    return { map: result.inputGradient!, warnings: [...warnings, ...scoreWarnings(ctx)] };
  },
});
