import { defineMetric, type Metric, OptionError, type Tensor } from '@xlens/core';
import { pearson, plane, spearman } from './internal/stats.js';
import { structuralSimilarity } from './ssim.js';

/** Options of `hyperparameterSensitivity`. */
export interface HyperparameterSensitivityOptions {
  /** Run seeds tried for every setting. */
  readonly seeds: readonly number[];
  /** Explainer options to vary: each key lists its values; every combination is one setting. */
  readonly grid: Readonly<Record<string, readonly unknown[]>>;
  /** How two maps are compared. */
  readonly similarity: 'spearman' | 'pearson' | 'ssim';
}

/** Every combination of the grid's values, in key order (one empty setting for an empty grid). */
function settings(grid: Readonly<Record<string, readonly unknown[]>>): Record<string, unknown>[] {
  return Object.entries(grid).reduce<Record<string, unknown>[]>(
    (acc, [key, values]) => acc.flatMap((s) => values.map((v) => ({ ...s, [key]: v }))),
    [{}],
  );
}

/**
 * Bansal, Agarwal & Nguyen, 2020, "SAM: The Sensitivity of Attribution Methods to
 * Hyperparameters", CVPR, arXiv:2003.08754. The explainer is run under every combination of
 * run seeds and option values (SmoothGrad's sample count and σ, LIME's seed, an occlusion's patch
 * size); the score is the mean, over all pairs of settings, of 1 − similarity of their maps
 * (Spearman rank correlation by default; SSIM as the paper also uses). 0 when the maps never change;
 * lower is better.
 */
export const hyperparameterSensitivity: Metric<HyperparameterSensitivityOptions> =
  defineMetric<HyperparameterSensitivityOptions>({
    id: 'hyperparameter-sensitivity',
    category: 'robustness',
    title: 'Hyperparameter sensitivity',
    citation:
      'Bansal, Agarwal & Nguyen, 2020, SAM: The Sensitivity of Attribution Methods to Hyperparameters, CVPR, arXiv:2003.08754',
    description: 'Mean dissimilarity (1 − similarity) of the maps over pairs of seeds and option values.',
    needs: ['model', 'explainer'],
    requires: [],
    direction: 'lower',
    range: [0, 2],
    stochastic: true,
    defaults: { seeds: [0, 1, 2], grid: {}, similarity: 'spearman' },
    options: {
      seeds: { type: 'numbers', doc: 'run seeds tried for every setting' },
      grid: { type: 'json', doc: 'explainer options to vary, e.g. {"samples":[10,50],"sigma":[0.1,0.2]}' },
      similarity: { type: 'enum', doc: 'how two maps are compared', values: ['spearman', 'pearson', 'ssim'] },
    },
    validate(options) {
      const { grid, seeds } = options;
      if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s)))
        throw new OptionError(
          'invalid-option',
          `hyperparameter-sensitivity: option seeds = ${JSON.stringify(seeds)} is invalid; expected integers`,
        );
      const ok =
        typeof grid === 'object' &&
        grid !== null &&
        !Array.isArray(grid) &&
        Object.values(grid).every((v) => Array.isArray(v) && v.length > 0);
      if (!ok)
        throw new OptionError(
          'invalid-option',
          `hyperparameter-sensitivity: option grid = ${JSON.stringify(grid)} is invalid; expected {"option": [value, …], …}`,
        );
      if (settings(grid).length * seeds.length < 2)
        throw new OptionError(
          'invalid-option',
          'hyperparameter-sensitivity needs at least two settings (seeds × grid values) to compare',
        );
    },
    async compute(ctx) {
      const { options, n } = ctx;
      const hw = ctx.height * ctx.width;
      const runs = settings(options.grid).flatMap((s) => options.seeds.map((seed) => ({ options: s, seed })));
      const maps: Tensor[] = [];
      for (const [k, run] of runs.entries()) {
        ctx.checkAborted();
        maps.push(await ctx.explain(ctx.stream.input, run.options, run.seed));
        ctx.progress(k + 1, runs.length);
      }
      const compare = (a: Float32Array, b: Float32Array): number =>
        options.similarity === 'ssim'
          ? structuralSimilarity(a, b, ctx.height, ctx.width, 1.5, 'minmax')
          : options.similarity === 'pearson'
            ? pearson(a, b)
            : spearman(a, b);
      const warnings: string[] = [];
      const scores = Float64Array.from({ length: n }, (_, i) => {
        let total = 0;
        let pairs = 0;
        for (let a = 0; a < runs.length; a++)
          for (let b = a + 1; b < runs.length; b++) {
            const x = plane(maps[a].data, i, hw);
            const y = plane(maps[b].data, i, hw);
            // Identical maps are identical even where a correlation is undefined (a constant map).
            const s = x.every((v, p) => v === y[p]) ? 1 : compare(x, y);
            if (Number.isNaN(s)) continue;
            total += 1 - s;
            pairs++;
          }
        if (pairs === 0) warnings.push(`item ${i}: no pair of maps has a defined similarity; no score`);
        return pairs > 0 ? total / pairs : Number.NaN;
      });
      return { scores, warnings };
    },
  });
