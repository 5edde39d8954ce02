import {
  type BackwardRules,
  CapabilityError,
  type ExplainContext,
  type LinearRule,
  type Model,
  type OptionSpec,
  type Tensor,
} from '@xlens/core';
import { checkRules } from './check-rules.js';
import { layersOf, linearLayers } from './graph.js';
import { loadPatterns, patternsFromJson } from './pattern-file.js';
import { fitPatterns, type PatternEstimator, type Patterns } from './pattern-fit.js';
import { readWeights } from './read-weights.js';

/** Options shared by `patternnet` and `pattern-attribution`. */
export interface PatternOptions {
  /** Fitted patterns (`fitPatterns`), or a path to a file saved by `savePatterns`; null: fit on the batch. */
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
    doc: 'fitted patterns (fitPatterns) or a .json/.npz file from savePatterns; default: fit on the explained batch',
  },
  estimator: {
    type: 'enum',
    doc: 'estimator when fitting on the batch: auto (positive before ReLUs), linear or positive',
    values: ['auto', 'linear', 'positive'],
  },
};

/** The given patterns, loaded and validated, or null when they are to be fitted. */
export function givenPatterns(options: PatternOptions): Patterns | null {
  if (options.patterns === null || options.patterns === undefined) return null;
  return typeof options.patterns === 'string'
    ? loadPatterns(options.patterns)
    : patternsFromJson(options.patterns);
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
  const given = givenPatterns(options);
  if (given) {
    checkRules(model, patternRules(given), input, method);
    return;
  }
  const missing = (['capture', 'derive', 'layer-gradients'] as const).filter(
    (c) => !model.capabilities.has(c),
  );
  if (missing.length > 0) {
    throw new CapabilityError(
      `${method} without patterns fits them on the batch, which needs ${missing.join(', ')} (${model.info.name} lacks them); pass patterns from fitPatterns`,
    );
  }
}

/** The patterns to use, and warnings about how they were obtained and what they cover. */
export async function resolvePatterns(
  ctx: ExplainContext<PatternOptions>,
): Promise<{ patterns: Patterns; warnings: string[] }> {
  const warnings: string[] = [];
  let patterns = givenPatterns(ctx.options);
  if (!patterns) {
    patterns = await fitPatterns(ctx.model, ctx.input, {
      estimator: ctx.options.estimator,
      batchSize: ctx.batchSize,
    });
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
