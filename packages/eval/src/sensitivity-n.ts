import { defineMetric, type Metric, OptionError } from '@xlens/core';
import { checkFill, fillSpec, makeFill } from './internal/fill.js';
import { copyPixels, geometryOf } from './internal/pixels.js';
import { streamSteps } from './internal/rows.js';
import { mean, pearson, plane } from './internal/stats.js';
import { randomSubset } from './internal/subsets.js';

/** Options of `sensitivityN`. */
export interface SensitivityNOptions {
  /** Subset sizes n, as fractions of the pixels (each rounded, at least one pixel). */
  readonly sizes: readonly number[];
  /** Random subsets per size. */
  readonly subsets: number;
  /** What removed pixels become (core baseline spec; the paper's is zero). */
  readonly fill: unknown;
}

/** RNG stream of the subsets: subset t of size s is sample s·subsets + t. */
const subsetStream = 17;

/**
 * Ancona, Ceolini, Öztireli & Gross, 2018, "Towards better understanding of gradient-based
 * attribution methods for Deep Neural Networks", ICLR, arXiv:1711.06104. For each size n, random
 * subsets of n pixels (all channels) are removed; the score for n is the Pearson correlation, over
 * the subsets, between the sum of the map over the subset and the drop of the target's output.
 * The curve holds it per n; the score is its mean. A map satisfies sensitivity-n when the
 * correlation is 1 (Gradient ⊙ Input on a linear model, for every n). Quantus instead removes the
 * top-ranked features cumulatively, one correlation per item, on softmax probabilities.
 */
export const sensitivityN: Metric<SensitivityNOptions> = defineMetric<SensitivityNOptions>({
  id: 'sensitivity-n',
  category: 'faithfulness',
  title: 'Sensitivity-n',
  citation:
    'Ancona, Ceolini, Öztireli & Gross, 2018, Towards better understanding of gradient-based attribution methods for Deep Neural Networks, ICLR, arXiv:1711.06104',
  description:
    'Correlation between the summed attribution of random pixel subsets and the output drop when they are removed.',
  needs: ['maps', 'model'],
  requires: [],
  direction: 'higher',
  range: [-1, 1],
  curve: { x: 'fraction of pixels removed (n / pixels)', y: 'Pearson correlation' },
  stochastic: true,
  defaults: { sizes: [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9], subsets: 100, fill: 'zero' },
  options: {
    sizes: { type: 'numbers', doc: 'subset sizes n as fractions of the pixels (0, 1]' },
    subsets: { type: 'integer', doc: 'random subsets per size', min: 2 },
    fill: fillSpec,
  },
  validate(options, request) {
    if (options.sizes.length === 0 || options.sizes.some((s) => !(s > 0 && s <= 1)))
      throw new OptionError(
        'invalid-option',
        `sensitivity-n: option sizes = ${JSON.stringify(options.sizes)} is invalid; expected fractions in (0, 1]`,
      );
    checkFill(options.fill, request);
  },
  async compute(ctx) {
    const { maps, options } = ctx;
    const g = geometryOf(ctx.stream.input, ctx.stream.model.info.layout);
    const counts = options.sizes.map((f) => Math.max(1, Math.round(f * g.hw)));
    const rows = 1 + counts.length * options.subsets;
    const scratch = new Int32Array(g.hw);
    const subset = (row: number): Int32Array =>
      randomSubset(
        ctx.sampleRng(subsetStream, row - 1),
        g.hw,
        counts[Math.floor((row - 1) / options.subsets)],
        scratch,
      );
    // Summed attribution of every subset, per item: each subset is drawn once here for all items.
    const sums = Array.from({ length: ctx.n }, () => new Float64Array(rows));
    for (let r = 1; r < rows; r++) {
      const s = subset(r);
      for (let i = 0; i < ctx.n; i++) {
        const map = plane(maps.data, i, g.hw);
        let t = 0;
        for (const p of s) t += map[p];
        sums[i][r] = t;
      }
    }
    const fill = makeFill(ctx, options.fill, 0);
    const y = await streamSteps(ctx, rows, (i, r, out) => {
      out.set(plane(ctx.stream.input.data, i, g.per));
      if (r > 0) copyPixels(out, plane(fill.data, i, g.per), subset(r), g);
    });
    const warnings: string[] = [];
    const curves = y.map((yi, i) => {
      const corr = counts.map((_, k) => {
        const from = 1 + k * options.subsets;
        const drops = Array.from({ length: options.subsets }, (_, t) => yi[0] - yi[from + t]);
        return pearson(sums[i].subarray(from, from + options.subsets), drops);
      });
      if (corr.some(Number.isNaN))
        warnings.push(
          `item ${i}: constant attribution sums or output drops for some n; they have no correlation`,
        );
      return { x: counts.map((c) => c / g.hw), y: corr };
    });
    return { scores: curves.map((c) => mean(c.y.filter(Number.isFinite))), curves, warnings };
  },
});
