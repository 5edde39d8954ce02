import {
  type BackwardRules,
  type BaselineSpec,
  baselineNames,
  batchStream,
  checkBaseline,
  defineExplainer,
  isBaselinePath,
  makeBaseline,
  type OptionSpecs,
  sizeOf,
  type Tensor,
} from '@xlens/core';
import { checkRules } from './check-rules.js';
import { itemSums } from './relevance-run.js';

/** Rescale rules; `maxPool` only when not the default, since it belongs to the `linear-rules` capability. */
function rescaleRules(reference: Tensor, maxPool: 'winner' | 'proportional'): BackwardRules {
  return maxPool === 'winner' ? { relu: 'rescale', reference } : { relu: 'rescale', reference, maxPool };
}

/** Options of `deeplift`. */
export interface DeepLiftOptions {
  /**
   * Reference input when `reference` is not given, built by core's `makeBaseline`: `zero`;
   * `black` / `white` (the low / high end of `model.info.inputRange`); `mean` (each item's
   * per-channel mean); `blur` (the input blurred with `blurSigma`); `uniform` (random in
   * `inputRange`, one draw from the seed shared by every item); a number; a path to a `.npy` file,
   * read through the run option `files`; or a tensor.
   */
  readonly baseline: BaselineSpec;
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
export const deeplift = defineExplainer<
  DeepLiftOptions,
  { scoreDifference: number[]; completenessGap: number[] },
  'deeplift'
>({
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
      type: 'json',
      doc: `reference input: ${baselineNames.join(', ')} (black/white/uniform from model.info.inputRange), a number, a .npy path (read through the files run option) or a tensor`,
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
    const spec = options.reference ?? options.baseline;
    // validate has no run options, so a .npy path is read and checked by makeBaseline at the top of
    // attribute, through ctx.files, before the first model pass.
    if (!isBaselinePath(spec)) checkBaseline(spec, model, input);
    // The reference has the input's shape once checkBaseline passes; the input stands in for it
    // here, since checkRules only looks at its shape (and building a blur twice would be waste).
    checkRules(model, rescaleRules(input, options.maxPool), input, 'deeplift');
  },
  async attribute(ctx) {
    const { input } = ctx;
    const ref = makeBaseline(ctx.options.reference ?? ctx.options.baseline, ctx.model, input, {
      blurSigma: ctx.options.blurSigma,
      rng: ctx.sampleRng(1, 0), // stream 1, sample 0: the uniform baseline's one draw
      files: ctx.files,
    });
    const per = sizeOf(input.shape.slice(1));
    const map = new Float32Array(input.data.length);
    const scores = new Float32Array(input.shape[0]);
    // Core hands every chunk of rows the references of its items, and reports progress.
    const stream = { ...batchStream(input), rules: rescaleRules(ref, ctx.options.maxPool) };
    await ctx.streamGradient(stream, (chunk) => {
      const grad = chunk.inputGradient!.data;
      for (let i = 0, j = chunk.start * per; i < grad.length; i++, j++)
        map[j] = (input.data[j] - ref.data[j]) * grad[i];
      scores.set(ctx.scores(chunk.output, chunk.items), chunk.start);
    });
    const attribution = { data: map, shape: [...input.shape] };
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
