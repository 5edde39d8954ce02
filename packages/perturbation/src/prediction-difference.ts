import { batchStream, defineExplainer, type Extras, OptionError, type Tensor } from '@xlens/core';
import { contextGeometry, geometry, itemData } from './internal/image.js';
import { rowScores } from './internal/scores.js';
import { referenceData, windowSampler } from './internal/window-sampler.js';
import {
  addToWindow,
  averageOverWindows,
  checkWindows,
  type PixelSize,
  pixelPair,
  pixelSizeSpec,
  slidingWindows,
  stridePair,
} from './internal/windows.js';

/** RNG streams: window k's sample s draws from `sampleRng(pdStream, k·samples + s)`; the fit from `rng(pdFitStream)`. */
const pdStream = 14;
const pdFitStream = 15;

/** Options of `prediction-difference`. */
export interface PredictionDifferenceOptions {
  /** Size of the window removed at once (all channels), pixels: a number or `[height, width]`. */
  readonly window: PixelSize;
  /** Step between windows, pixels, at most the window (the paper slides by 1); `null`: half the window. */
  readonly stride: PixelSize | null;
  /** Samples of the removed window per position. */
  readonly samples: number;
  /**
   * `marginal`: the window's values from a random data image at the same place (without `data`:
   * each pixel from a random pixel of the item itself); `conditional`: drawn from a Gaussian over
   * patches, fitted to `data`, conditioned on the `padding`-pixel frame around the window.
   */
  readonly sampling: 'marginal' | 'conditional';
  /** Width of the conditioning frame around the window, pixels (conditional sampling). */
  readonly padding: number;
  /** Reference images `M×inputShape` (the model's layout and preprocessing), or a `.npy` path. */
  readonly data: Tensor | string | null;
  /**
   * `weight-of-evidence` (the paper): log₂ odds of the target probability minus log₂ odds of its
   * mean over the samples; `score`: the run's score minus its mean over the samples.
   */
  readonly measure: 'weight-of-evidence' | 'score';
}

/** Log₂ odds, with p kept inside [1e-12, 1 − 1e-12] so certain predictions stay finite. */
const logOdds = (p: number) => {
  const q = Math.min(1 - 1e-12, Math.max(1e-12, p));
  return Math.log2(q / (1 - q));
};

/**
 * Zintgraf, Cohen, Adel & Welling, 2017, "Visualizing Deep Neural Network Decisions: Prediction
 * Difference Analysis", ICLR, arXiv:1702.04595. Each window is removed by sampling its values
 * (marginally, or conditioned on its surroundings) and the prediction difference — in weight of
 * evidence, log₂ odds(p(c|x)) − log₂ odds(mean_s p(c|x̃_s)) — is averaged over the windows that
 * cover a pixel. A pixel whose covering windows the model ignores gets exactly 0. Rows (windows × samples × items) are streamed in chunks of `batchSize`.
 */
export const predictionDifference = defineExplainer<
  PredictionDifferenceOptions,
  Extras,
  'prediction-difference'
>({
  id: 'prediction-difference',
  family: 'perturbation',
  title: 'Prediction difference analysis',
  citation:
    'Zintgraf, Cohen, Adel & Welling, 2017, Visualizing Deep Neural Network Decisions: Prediction Difference Analysis, ICLR, arXiv:1702.04595',
  description:
    'Drop in weight of evidence for the target when a window is resampled from its (conditional) distribution.',
  requires: [],
  mapKind: 'pixel',
  stochastic: true,
  defaults: {
    window: 8,
    stride: null,
    samples: 10,
    sampling: 'marginal',
    padding: 2,
    data: null,
    measure: 'weight-of-evidence',
  },
  options: {
    window: pixelSizeSpec('size of the removed window'),
    stride: pixelSizeSpec('step between windows, at most the window (null: half the window)'),
    samples: { type: 'integer', doc: 'samples per window position', min: 1 },
    sampling: { type: 'enum', doc: 'how removed windows are sampled', values: ['marginal', 'conditional'] },
    padding: { type: 'integer', doc: 'conditioning frame around the window', min: 0 },
    data: { type: 'json', doc: 'reference images M×inputShape or a .npy path (needed for conditional)' },
    measure: {
      type: 'enum',
      doc: 'prediction difference measure',
      values: ['weight-of-evidence', 'score'],
    },
  },
  validate(options, model, input) {
    const g = geometry(model, input, 'prediction-difference');
    const window = pixelPair('prediction-difference', 'window', options.window);
    checkWindows(
      'prediction-difference',
      g,
      window,
      stridePair('prediction-difference', options.stride, window),
    );
    if (typeof options.data !== 'string') referenceData(options.data, g, 'prediction-difference');
    if (options.sampling === 'conditional') {
      if (options.data === null)
        throw new OptionError(
          'invalid-option',
          'prediction-difference: conditional sampling needs data (reference images to fit the patch Gaussian); pass data or use sampling marginal',
        );
      if (window[0] + 2 * options.padding > g.h || window[1] + 2 * options.padding > g.w)
        throw new OptionError(
          'invalid-option',
          `prediction-difference: window + 2·padding (${window[0] + 2 * options.padding}×${window[1] + 2 * options.padding}) does not fit the ${g.h}×${g.w} image`,
        );
    }
  },
  async attribute(ctx) {
    const { input, options } = ctx;
    const g = contextGeometry(ctx);
    const { n, h, w } = g;
    const S = options.samples;
    const window = pixelPair(ctx.method, 'window', options.window);
    const windows = slidingWindows(g, window, stridePair(ctx.method, options.stride, window));
    // A .npy path is read here, through the run option files, before the first model pass.
    const data = referenceData(options.data, g, ctx.method, ctx.files);
    const sample = windowSampler(options.sampling, data, g, window, options.padding, ctx.rng(pdFitStream));
    const score = (out: Tensor, items: Int32Array) =>
      rowScores(ctx, out, items, options.measure === 'weight-of-evidence');
    const base = new Float64Array(n);
    await ctx.streamForward({ ...batchStream(input), progress: false }, (c) =>
      base.set(score(c.output, c.items), c.start),
    );
    // Rows are (window, sample, item), item fastest: each item meets its samples in order.
    const sums = new Float64Array(n * h * w);
    const running = new Float64Array(n);
    await ctx.streamForward(
      {
        rows: windows.length * S * n,
        items: (r) => r % n,
        input: (start, end) => {
          const out = new Float32Array((end - start) * g.per);
          for (let r = start; r < end; r++) {
            const x = itemData(input, g, r % n);
            const row = out.subarray((r - start) * g.per, (r - start + 1) * g.per);
            row.set(x);
            const q = Math.floor(r / n);
            sample(windows[Math.floor(q / S)], x, row, ctx.sampleRng(pdStream, q));
          }
          return { data: out, shape: [end - start, ...input.shape.slice(1)] };
        },
      },
      (c) => {
        const s = score(c.output, c.items);
        for (let r = c.start; r < c.end; r++) {
          const i = r % n;
          const q = Math.floor(r / n);
          // Summing drops (not scores) keeps a window the model ignores at exactly 0.
          running[i] += base[i] - s[r - c.start];
          if (q % S !== S - 1) continue;
          const drop = running[i] / S;
          running[i] = 0;
          const diff = options.measure === 'score' ? drop : logOdds(base[i]) - logOdds(base[i] - drop);
          addToWindow(sums, g, i, windows[Math.floor(q / S)], diff);
        }
      },
    );
    const map = averageOverWindows(sums, g, windows);
    return { map: { data: map, shape: [n, h, w] } };
  },
});
