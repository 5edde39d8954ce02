import {
  type BaselineSpec,
  defineExplainer,
  type ExplainContext,
  type Extras,
  OptionError,
  resizeBilinear,
} from '@xlens/core';
import { blurSigmaSpec, checkFill, fillSpec, makeFill } from './internal/fill.js';
import { blendPixels, contextGeometry, geometry, itemData } from './internal/image.js';
import { rowScores } from './internal/scores.js';

/** RNG stream of RISE's masks: mask m is drawn from `sampleRng(riseStream, m)`. */
const riseStream = 11;

/** Options of `rise`. */
export interface RiseOptions {
  /** Number of random masks N. */
  readonly masks: number;
  /** Cells of the random grid per side (s: an s×s grid of on/off cells). */
  readonly cells: number;
  /** Probability that a grid cell keeps the image (is on). */
  readonly p: number;
  /** What masked-out pixels become: core's baselines; `zero` is the paper's I ⊙ M. */
  readonly fill: BaselineSpec;
  /** Standard deviation of the `blur` fill, in pixels. */
  readonly blurSigma: number;
  /**
   * Weigh masks by the target's softmax probability, as the paper does (true), or by the run's
   * score kind (false; logit by default).
   */
  readonly probability: boolean;
}

/**
 * Mask `m` for an `h×w` image: an s×s grid of cells on with probability p, upsampled bilinearly
 * (core's pixel-centre convention) to (s+1)·⌈h/s⌉ × (s+1)·⌈w/s⌉ and cropped at a random shift in
 * [0, ⌈h/s⌉) × [0, ⌈w/s⌉), as in the authors' code. Its draws come from `sampleRng(riseStream, m)`
 * only, so every item of a batch — and the item alone — sees the same mask m.
 */
function riseMask(
  ctx: Pick<ExplainContext<unknown>, 'sampleRng'>,
  m: number,
  h: number,
  w: number,
  cells: number,
  p: number,
): Float32Array {
  const rng = ctx.sampleRng(riseStream, m);
  const grid = new Float32Array(cells * cells);
  for (let j = 0; j < grid.length; j++) grid[j] = rng.uniform() < p ? 1 : 0;
  const cellH = Math.ceil(h / cells);
  const cellW = Math.ceil(w / cells);
  const dy = rng.int(cellH);
  const dx = rng.int(cellW);
  const up = resizeBilinear(
    { data: grid, shape: [1, cells, cells] },
    (cells + 1) * cellH,
    (cells + 1) * cellW,
  );
  const upW = (cells + 1) * cellW;
  const out = new Float32Array(h * w);
  for (let y = 0; y < h; y++) out.set(up.data.subarray((y + dy) * upW + dx, (y + dy) * upW + dx + w), y * w);
  return out;
}

/**
 * Petsiuk, Das & Saenko, 2018, "RISE: Randomized Input Sampling for Explanation of Black-box
 * Models", BMVC, arXiv:1806.07421. The map is Σ_m f_c(x ⊙ M_m) · M_m / (N · p) over N random
 * smooth masks M_m (see `riseMask`); masked pixels take `fill` (zero: the paper's x ⊙ M). The
 * score is the target's softmax probability by default, as in the paper (`probability: false`
 * uses the run's score kind). Masks are drawn and consumed one chunk of `batchSize` rows at a
 * time, so memory does not grow with N.
 */
export const rise = defineExplainer<RiseOptions, Extras, 'rise'>({
  id: 'rise',
  family: 'perturbation',
  title: 'RISE',
  citation:
    'Petsiuk, Das & Saenko, 2018, RISE: Randomized Input Sampling for Explanation of Black-box Models, BMVC, arXiv:1806.07421',
  description: 'Random smooth masks weighted by the target probability of the masked image, averaged.',
  requires: [],
  mapKind: 'pixel',
  stochastic: true,
  defaults: { masks: 2000, cells: 7, p: 0.5, fill: 'zero', blurSigma: 5, probability: true },
  options: {
    masks: { type: 'integer', doc: 'number of random masks N', min: 1 },
    cells: { type: 'integer', doc: 'grid cells per side s', min: 1 },
    p: { type: 'number', doc: 'probability that a grid cell is on', min: 0, max: 1 },
    fill: fillSpec,
    blurSigma: blurSigmaSpec,
    probability: {
      type: 'boolean',
      doc: 'weigh masks by the softmax probability (paper) rather than the run score',
    },
  },
  validate(options, model, input) {
    const g = geometry(model, input, 'rise');
    if (options.p === 0)
      throw new OptionError('invalid-option', 'rise: option p = 0 is invalid; no mask would keep any pixel');
    if (options.cells > Math.min(g.h, g.w)) {
      throw new OptionError(
        'invalid-option',
        `rise: option cells = ${options.cells} is invalid; expected at most ${Math.min(g.h, g.w)} (the image side)`,
      );
    }
    checkFill(options.fill, model, input);
  },
  async attribute(ctx) {
    const { input, options } = ctx;
    const g = contextGeometry(ctx);
    const { n, h, w } = g;
    const hw = h * w;
    const fill = makeFill(ctx, options.fill, options.blurSigma);
    const sums = new Float64Array(n * hw);
    // Rows are (mask, item) pairs, mask-major; the masks of the chunk being built stay until its
    // reduction, and only those.
    const masks = new Map<number, Float32Array>();
    const maskOf = (m: number): Float32Array => {
      let mask = masks.get(m);
      if (!mask) {
        mask = riseMask(ctx, m, h, w, options.cells, options.p);
        masks.set(m, mask);
      }
      return mask;
    };
    await ctx.streamForward(
      {
        rows: options.masks * n,
        items: (r) => r % n,
        input: (start, end) => {
          for (const m of masks.keys()) if (m < Math.floor(start / n)) masks.delete(m);
          const out = new Float32Array((end - start) * g.per);
          for (let r = start; r < end; r++) {
            const i = r % n;
            blendPixels(
              g,
              itemData(input, g, i),
              itemData(fill, g, i),
              maskOf(Math.floor(r / n)),
              out,
              (r - start) * g.per,
            );
          }
          return { data: out, shape: [end - start, ...input.shape.slice(1)] };
        },
      },
      (c) => {
        const scores = rowScores(ctx, c.output, c.items, options.probability);
        for (let r = c.start; r < c.end; r++) {
          const i = r % n;
          const mask = maskOf(Math.floor(r / n));
          const s = scores[r - c.start];
          for (let q = 0; q < hw; q++) sums[i * hw + q] += s * mask[q];
        }
      },
    );
    const map = new Float32Array(n * hw);
    const scale = 1 / (options.masks * options.p);
    for (let e = 0; e < map.length; e++) map[e] = sums[e] * scale;
    return { map: { data: map, shape: [n, h, w] } };
  },
});
