import {
  type BackwardRules,
  chunkRanges,
  concatBatch,
  defineExplainer,
  type OptionSpecs,
  sliceBatch,
  type Tensor,
} from '@xlens/core';
import { type BaselineKind, baselineKinds, referenceBatch } from './baselines.js';
import { checkRules } from './check-rules.js';
import { itemSums } from './relevance-run.js';

/** Rescale rules; `maxPool` only when not the default, since it belongs to the `linear-rules` capability. */
function rescaleRules(reference: Tensor, maxPool: 'winner' | 'proportional'): BackwardRules {
  return maxPool === 'winner' ? { relu: 'rescale', reference } : { relu: 'rescale', reference, maxPool };
}

/** Options of `deeplift`. */
export interface DeepLiftOptions {
  /** Reference input when `reference` is not given. */
  readonly baseline: BaselineKind;
  /** An explicit reference input in the input layout: one item (broadcast) or the whole batch. */
  readonly reference: Tensor | null;
  /** Standard deviation in pixels of the `blur` baseline. */
  readonly blurSigma: number;
  /** Max-pooling: winner takes all (the gradient), or proportional to the inputs. */
  readonly maxPool: 'winner' | 'proportional';
}

/**
 * Shrikumar, Greenside & Kundaje, 2017, "Learning important features through propagating
 * activation differences", ICML, arXiv:1704.02685.
 *
 * DeepLIFT with the Rescale rule: every ReLU passes back the multiplier Δy/Δx against the
 * reference input's activations (the gradient where |Δx| < 1e-7), linear layers and additions their
 * weights; the attribution is `(x − x_ref) ⊙ multiplier`. On nets of linear layers, ReLUs and
 * average pooling it is complete: Σ attribution = f(x) − f(x_ref), reported as
 * `extras.completenessGap`. Max-pooling passes the gradient, so completeness is then approximate.
 */
export const deeplift = defineExplainer<DeepLiftOptions>({
  id: 'deeplift',
  family: 'relevance',
  title: 'DeepLIFT (Rescale)',
  citation: 'Shrikumar, Greenside & Kundaje, 2017, ICML, arXiv:1704.02685',
  description:
    'How much each input value’s difference from a reference input contributes to the difference of the target score; sums to f(x) − f(reference).',
  requires: ['gradients', 'relu-rules'],
  mapKind: 'input',
  defaults: { baseline: 'zero', reference: null, blurSigma: 5, maxPool: 'winner' },
  options: {
    baseline: {
      type: 'enum',
      doc: 'reference input: zeros, inputRange low/high, per-channel mean or a Gaussian blur of the input',
      values: baselineKinds,
    },
    reference: {
      type: 'json',
      doc: 'explicit reference input tensor (one item or the whole batch), overrides baseline',
    },
    blurSigma: { type: 'number', doc: 'standard deviation of the blur baseline', min: 0.1, unit: 'pixels' },
    maxPool: {
      type: 'enum',
      doc: 'max-pooling: winner takes all, or proportional to the inputs',
      values: ['winner', 'proportional'],
    },
  } satisfies OptionSpecs<DeepLiftOptions>,
  validate(options, model, input) {
    const reference = referenceBatch(model, input, options.baseline, options);
    checkRules(model, rescaleRules(reference, options.maxPool), input, 'deeplift');
  },
  async attribute(ctx) {
    const { input } = ctx;
    const n = input.shape[0];
    const ref = referenceBatch(ctx.model, input, ctx.options.baseline, ctx.options);
    const grads: Tensor[] = [];
    const outputs: Tensor[] = [];
    // One chunk per gradient call so that each chunk gets its own slice of the reference batch.
    for (const [s, e] of chunkRanges(n, ctx.batchSize)) {
      const items = Array.from({ length: e - s }, (_, i) => s + i);
      const rules = rescaleRules(sliceBatch(ref, s, e), ctx.options.maxPool);
      const r = await ctx.gradient({ input: sliceBatch(input, s, e), items, rules });
      grads.push(r.inputGradient!);
      outputs.push(r.output);
      ctx.progress(e, n);
    }
    const grad = concatBatch(grads);
    const map = new Float32Array(input.data.length);
    for (let i = 0; i < map.length; i++) map[i] = (input.data[i] - ref.data[i]) * grad.data[i];
    const attribution = { data: map, shape: [...input.shape] };
    const scores = ctx.scores(concatBatch(outputs));
    const refScores = ctx.scores(await ctx.forward(ref));
    const total = itemSums(attribution);
    return {
      map: attribution,
      extras: {
        scoreDifference: Array.from(scores, (v, i) => v - refScores[i]),
        completenessGap: total.map((t, i) => t - (scores[i] - refScores[i])),
      },
    };
  },
});
