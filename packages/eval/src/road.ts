import { argmaxRows, defineMetric, type Metric, OptionError, scoreOf } from '@xlens/core';
import { imputeLinear } from './internal/impute.js';
import { geometryOf, pixelUnits } from './internal/pixels.js';
import { streamSteps } from './internal/rows.js';
import { mean, plane } from './internal/stats.js';

/** Options of `road`. */
export interface RoadOptions {
  /** Remove the most (`morf`) or least (`lerf`) relevant pixels. */
  readonly order: 'morf' | 'lerf';
  /** Fractions of the pixels removed, one evaluation each. */
  readonly percentages: readonly number[];
  /** Standard deviation of the noise added to imputed values, in input units. */
  readonly noise: number;
  /** What is recorded: whether the target is still the top class, or its probability. */
  readonly measure: 'accuracy' | 'probability';
}

/** RNG stream of the imputation noise (sample = percentage index, shared by every item). */
const noiseStream = 29;

/**
 * Rong, Leemann, Borisov, Kasneci & Kasneci, 2022, "A Consistent and Efficient Evaluation Strategy
 * for Attribution Methods" (ROAD: RemOve And Debias), ICML, arXiv:2202.00449. For each percentage,
 * that share of the pixels (most relevant first for MoRF) is removed and filled by noisy linear
 * imputation — each removed pixel the weighted mean of its eight neighbours, plus a little noise —
 * so that the removal pattern itself does not leak the class. The curve records whether the model
 * still predicts the target (the paper's accuracy) or its probability; the score is the curve's
 * mean. MoRF: lower is better; with `order: lerf`, higher is.
 */
export const road: Metric<RoadOptions> = defineMetric<RoadOptions>({
  id: 'road',
  category: 'faithfulness',
  title: 'ROAD (RemOve And Debias)',
  citation:
    'Rong, Leemann, Borisov, Kasneci & Kasneci, 2022, A Consistent and Efficient Evaluation Strategy for Attribution Methods, ICML, arXiv:2202.00449',
  description:
    'Accuracy on the target as the most relevant pixels are removed and imputed from their neighbours.',
  needs: ['maps', 'model'],
  requires: [],
  direction: 'lower',
  range: [0, 1],
  curve: { x: 'fraction of pixels removed', y: 'target accuracy (or probability)' },
  stochastic: true,
  defaults: {
    order: 'morf',
    percentages: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
    noise: 0.01,
    measure: 'accuracy',
  },
  options: {
    order: {
      type: 'enum',
      doc: 'remove the most (morf) or least (lerf) relevant pixels',
      values: ['morf', 'lerf'],
    },
    percentages: { type: 'numbers', doc: 'fractions of the pixels removed, in [0, 1)' },
    noise: { type: 'number', doc: 'standard deviation of the imputation noise', min: 0, unit: 'input units' },
    measure: {
      type: 'enum',
      doc: 'record top-1 accuracy on the target or its probability',
      values: ['accuracy', 'probability'],
    },
  },
  validate(options) {
    if (options.percentages.length === 0 || options.percentages.some((p) => !(p >= 0 && p < 1)))
      throw new OptionError(
        'invalid-option',
        `road: option percentages = ${JSON.stringify(options.percentages)} is invalid; expected fractions in [0, 1) (removing every pixel leaves nothing to impute from)`,
      );
  },
  async compute(ctx) {
    const { options, maps } = ctx;
    const stream = ctx.stream;
    const classes = stream.target.classes;
    if (!classes) throw new OptionError('invalid-option', 'road needs class targets, not a cotangent');
    const g = geometryOf(stream.input, stream.model.info.layout);
    const counts = options.percentages.map((p) => Math.floor(p * g.hw));
    const orders = Array.from(
      { length: ctx.n },
      (_, i) => pixelUnits(plane(maps.data, i, g.hw), options.order).pixels,
    );
    const y = await streamSteps(
      ctx,
      counts.length,
      (i, k, out) => {
        out.set(plane(stream.input.data, i, g.per));
        const noise = ctx
          .sampleRng(noiseStream, k)
          .fillNormal(new Float32Array(counts[k] * g.c), 0, options.noise);
        imputeLinear(out, orders[i].subarray(0, counts[k]), g, noise);
      },
      (output, items) => {
        if (options.measure === 'probability') {
          const k = output.shape[1];
          return Float64Array.from(items, (item, r) =>
            scoreOf(output.data.subarray(r * k, (r + 1) * k), classes[item], 'softmax'),
          );
        }
        const top = argmaxRows(output);
        return Float64Array.from(items, (item, r) => (top[r] === classes[item] ? 1 : 0));
      },
    );
    const x = counts.map((c) => c / g.hw);
    return { scores: y.map((v) => mean(v)), curves: y.map((v) => ({ x, y: Array.from(v) })) };
  },
});
