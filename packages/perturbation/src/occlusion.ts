import { type BaselineSpec, batchStream, defineExplainer } from '@xlens/core';
import { blurSigmaSpec, checkFill, fillSpec, makeFill } from './internal/fill.js';
import { contextGeometry, fillRect, geometry, itemData } from './internal/image.js';
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

/** Options of `occlusion`. */
export interface OcclusionOptions {
  /** Size of the occluding window (all channels), pixels: a number or `[height, width]`. */
  readonly window: PixelSize;
  /**
   * Step between window positions, pixels; at most the window, so every pixel is covered. `null`:
   * half the window, rounded up.
   */
  readonly stride: PixelSize | null;
  /**
   * What the window is filled with: `zero` (Captum's default), `mean` (each item's per-channel
   * mean), `blur`, `black` / `white` / `uniform` (from `model.info.inputRange`), a number, a `.npy`
   * path or a tensor — core's baselines.
   */
  readonly fill: BaselineSpec;
  /** Standard deviation of the `blur` fill, in pixels. */
  readonly blurSigma: number;
}

/** Extras of `occlusion`: the number of window positions. */
export type OcclusionExtras = { readonly windows: number };

/**
 * Zeiler & Fergus, 2014, "Visualizing and Understanding Convolutional Networks", ECCV,
 * arXiv:1311.2901. Occlusion sensitivity: a window (all channels) slides over the image, each
 * position is replaced by `fill`, and a pixel's attribution is the average, over the windows that
 * cover it, of the score drop f_c(x) − f_c(x with the window filled). This is Captum's `Occlusion`
 * exactly (its window placement: ⌈(H − h)/s⌉ + 1 starts per axis, the last window cut at the
 * border; its per-pixel averaging), so when windows tile the image a pixel's value is its window's
 * drop. The score is the run's (logit by default). Rows (windows × items) are streamed in chunks
 * of `batchSize`.
 */
export const occlusion = defineExplainer<OcclusionOptions, OcclusionExtras, 'occlusion'>({
  id: 'occlusion',
  family: 'perturbation',
  title: 'Occlusion',
  citation:
    'Zeiler & Fergus, 2014, Visualizing and Understanding Convolutional Networks, ECCV, arXiv:1311.2901',
  description:
    'Average drop of the target score when a sliding window over the pixel is filled (Captum’s Occlusion).',
  requires: [],
  mapKind: 'pixel',
  defaults: { window: 8, stride: null, fill: 'zero', blurSigma: 5 },
  options: {
    window: pixelSizeSpec('size of the occluding window'),
    stride: pixelSizeSpec('step between window positions, at most the window (null: half the window)'),
    fill: fillSpec,
    blurSigma: blurSigmaSpec,
  },
  validate(options, model, input) {
    const g = geometry(model, input, 'occlusion');
    const window = pixelPair('occlusion', 'window', options.window);
    checkWindows('occlusion', g, window, stridePair('occlusion', options.stride, window));
    checkFill(options.fill, model, input);
  },
  async attribute(ctx) {
    const { input, options } = ctx;
    const g = contextGeometry(ctx);
    const { n, h, w } = g;
    const window = pixelPair(ctx.method, 'window', options.window);
    const windows = slidingWindows(g, window, stridePair(ctx.method, options.stride, window));
    const fill = makeFill(ctx, options.fill, options.blurSigma);
    const base = new Float32Array(n);
    await ctx.streamForward({ ...batchStream(input), progress: false }, (c) => {
      base.set(ctx.scores(c.output, c.items), c.start);
    });
    // Rows are (window, item) pairs, window-major, so each item meets its windows in order.
    const sums = new Float64Array(n * h * w);
    await ctx.streamForward(
      {
        rows: windows.length * n,
        items: (r) => r % n,
        input: (start, end) => {
          const out = new Float32Array((end - start) * g.per);
          for (let r = start; r < end; r++) {
            const i = r % n;
            fillRect(
              g,
              itemData(input, g, i),
              itemData(fill, g, i),
              windows[Math.floor(r / n)],
              out,
              (r - start) * g.per,
            );
          }
          return { data: out, shape: [end - start, ...input.shape.slice(1)] };
        },
      },
      (c) => {
        const scores = ctx.scores(c.output, c.items);
        for (let r = c.start; r < c.end; r++) {
          const i = r % n;
          const win = windows[Math.floor(r / n)];
          addToWindow(sums, g, i, win, base[i] - scores[r - c.start]);
        }
      },
    );
    const map = averageOverWindows(sums, g, windows);
    return { map: { data: map, shape: [n, h, w] }, extras: { windows: windows.length } };
  },
});
