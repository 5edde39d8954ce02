import {
  type BackwardRules,
  CapabilityError,
  type ExplainContext,
  type LinearRule,
  type Model,
  OptionError,
  type OptionSpec,
  type Tensor,
} from '@xlens/core';
import { checkRules } from './check-rules.js';
import { layersOf, linearLayers } from './graph.js';
import { loadPatterns, patternsFromJson } from './pattern-file.js';
import { fitPatternsInRun, type PatternEstimator, type Patterns } from './pattern-fit.js';
import { readWeights } from './read-weights.js';

/** Options shared by `patternnet` and `pattern-attribution`. */
export interface PatternOptions {
  /**
   * Fitted patterns (`fitPatterns`), or a path to a `.npz` (`patternsToNpz`) or JSON
   * (`patternsToJson`) file, read through the run option `files`; null: fit on the batch.
   */
  readonly patterns: Patterns | string | null;
  /** Estimator when fitting on the explained batch. */
  readonly estimator: 'auto' | PatternEstimator;
}

/** Defaults of `PatternOptions`. */
export const patternDefaults: PatternOptions = { patterns: null, estimator: 'auto' };

/** Specs of `PatternOptions`. */
export const patternOptionSpecs: { readonly [K in keyof PatternOptions]-?: OptionSpec } = {
  patterns: {
    type: 'json',
    doc: 'fitted patterns (fitPatterns) or a .json/.npz file (patternsToJson/patternsToNpz, read through the files run option); default: fit on the explained batch',
  },
  estimator: {
    type: 'enum',
    doc: 'estimator when fitting on the batch: auto (positive before ReLUs), linear or positive',
    values: ['auto', 'linear', 'positive'],
  },
};

/** The given in-memory patterns, validated; null when they are to be fitted or read from a file. */
export function givenPatterns(options: PatternOptions): Patterns | null {
  if (options.patterns === null || options.patterns === undefined || typeof options.patterns === 'string')
    return null;
  return patternsFromJson(options.patterns);
}

/** Pattern rules for the layers that have patterns; `weights` turns them into w ⊙ a (PatternAttribution). */
export function patternRules(patterns: Patterns, weights?: ReadonlyMap<string, Tensor>): BackwardRules {
  const linear: Record<string, LinearRule> = {};
  for (const [name, p] of Object.entries(patterns.layers)) {
    const w = weights?.get(name);
    const weight = w
      ? { data: p.pattern.data.map((a, i) => a * w.data[i]), shape: p.pattern.shape }
      : p.pattern;
    linear[name] = { kind: 'pattern', weight };
  }
  return { linear };
}

/** Validation before compute: given patterns fit the model; otherwise the model can fit them. */
export function validatePatterns(model: Model, options: PatternOptions, input: Tensor, method: string): void {
  // validate has no run options, so a patterns file is read and checked in resolvePatterns, through
  // ctx.files, before the first model pass.
  if (typeof options.patterns === 'string') return;
  const given = givenPatterns(options);
  if (given) {
    checkRules(model, patternRules(given), input, method);
    return;
  }
  const missing = (['capture', 'weights', 'layer-gradients'] as const).filter(
    (c) => !model.capabilities.has(c),
  );
  if (missing.length > 0) {
    throw new CapabilityError(
      `${method} without patterns fits them on the batch, which needs ${missing.join(', ')} (${model.info.name} lacks them); pass patterns from fitPatterns`,
    );
  }
  // A dense layer's units get one sample per item, and a pattern fitted on one sample is zero.
  const dense = linearLayers(layersOf(model, method)).find((l) => l.layer.kind === 'dense');
  if (dense && input.shape[0] < 2) {
    throw new OptionError(
      'invalid-option',
      `${method} without patterns fits them on the explained batch, where the dense layer ${dense.layer.name} gets one sample per item: on ${input.shape[0]} item its patterns, and the map, would be zero; explain 2 or more items at once, or fit patterns on a data set with fitPatterns and pass them as patterns`,
    );
  }
}

/** The patterns to use, and warnings about how they were obtained and what they cover. */
export async function resolvePatterns(
  ctx: ExplainContext<PatternOptions>,
): Promise<{ patterns: Patterns; warnings: string[] }> {
  const warnings: string[] = [];
  let patterns = givenPatterns(ctx.options);
  if (typeof ctx.options.patterns === 'string') {
    patterns = await loadPatterns(ctx.options.patterns, ctx.files);
    checkRules(ctx.model, patternRules(patterns), ctx.input, ctx.method);
  }
  if (!patterns) {
    patterns = await fitPatternsInRun(ctx, ctx.input, { estimator: ctx.options.estimator });
    warnings.push(
      `patterns were fitted on the ${ctx.input.shape[0]} explained item(s); fit them on a data set with fitPatterns and pass them as patterns`,
    );
  }
  const without = linearLayers(layersOf(ctx.model, ctx.method))
    .map((l) => l.layer.name)
    .filter((n) => !patterns.layers[n]);
  if (without.length > 0) warnings.push(`layers without a pattern keep the gradient: ${without.join(', ')}`);
  return { patterns, warnings };
}

/** Weights of the patterned layers, for w ⊙ a. */
export function patternWeights(
  model: Model,
  patterns: Patterns,
  method: string,
): Promise<Map<string, Tensor>> {
  return readWeights(model, Object.keys(patterns.layers), method);
}
