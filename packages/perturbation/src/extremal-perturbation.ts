import { type BaselineSpec, defineExplainer, OptionError } from '@xlens/core';
import { blurSigmaSpec, checkFill, fillSpec, makeFill } from './internal/fill.js';
import { contextGeometry, geometry } from './internal/image.js';
import {
  cleanScales,
  descend,
  finalScores,
  keepWeight,
  type MaskObjective,
  objectiveSpec,
  ProjectedAdam,
  Upsampler,
} from './internal/mask-descent.js';

/** Options of `extremalPerturbation`. */
export interface ExtremalPerturbationOptions {
  /** Area fractions a of the masks, each in (0, 1); one mask per area, the map is their mean. */
  readonly areas: readonly number[];
  /** `preservation` (the paper's main game: keep area a, keep the score) or `deletion`. */
  readonly objective: MaskObjective;
  /** Gradient steps (the authors' code: 800). */
  readonly steps: number;
  /** Adam learning rate. */
  readonly learningRate: number;
  /** Weight λ of the area (rank) loss. */
  readonly areaWeight: number;
  /** Pixels between the mask parameters (the grid is ⌈H/stride⌉ × ⌈W/stride⌉). */
  readonly stride: number;
  /** Width σ of the max-convolution kernel, in grid cells. */
  readonly smoothing: number;
  /** Sharpness β of the smooth maximum (large: a hard max). */
  readonly sharpness: number;
  /** What perturbed pixels become (core's baselines); the paper blurs. */
  readonly fill: BaselineSpec;
  /** Standard deviation of the `blur` fill, in pixels. */
  readonly blurSigma: number;
}

/** Extras of `extremalPerturbation`, one entry per (item, area), item-major. */
export type ExtremalPerturbationExtras = {
  /** Mean of each final mask (its area fraction). */
  readonly maskArea: readonly number[];
  /** Target score under each final mask. */
  readonly maskedScore: readonly number[];
  /** Clean target score per item. */
  readonly cleanScore: readonly number[];
};

/**
 * The smooth max-convolution of the paper's mask parametrisation on the parameter grid: cell u
 * takes a soft maximum over its neighbours v of k(u−v)·p_v, with k a Gaussian of width σ cells
 * (k(0) = 1) and the soft maximum Σ a·e^{βa} / Σ e^{βa}; `backward` is its exact adjoint.
 */
class SmoothMaxConv {
  private readonly radius: number;
  constructor(
    private readonly rows: number,
    private readonly cols: number,
    private readonly sigma: number,
    private readonly beta: number,
  ) {
    this.radius = Math.max(1, Math.ceil(2 * sigma));
  }
  private each(u: number, visit: (v: number, k: number) => void): void {
    const uy = Math.floor(u / this.cols);
    const ux = u % this.cols;
    const r = this.radius;
    for (let dy = -r; dy <= r; dy++)
      for (let dx = -r; dx <= r; dx++) {
        const y = uy + dy;
        const x = ux + dx;
        if (y < 0 || y >= this.rows || x < 0 || x >= this.cols) continue;
        visit(y * this.cols + x, Math.exp(-(dy * dy + dx * dx) / (2 * this.sigma * this.sigma)));
      }
  }
  forward(p: ArrayLike<number>): Float64Array {
    const out = new Float64Array(this.rows * this.cols);
    for (let u = 0; u < out.length; u++) {
      let z = 0;
      let s = 0;
      this.each(u, (v, k) => {
        const a = k * p[v];
        const e = Math.exp(this.beta * (a - 1));
        z += e;
        s += a * e;
      });
      out[u] = s / z;
    }
    return out;
  }
  backward(p: ArrayLike<number>, m: ArrayLike<number>, g: ArrayLike<number>): Float64Array {
    const out = new Float64Array(p.length);
    for (let u = 0; u < m.length; u++) {
      let z = 0;
      this.each(u, (v, k) => {
        z += Math.exp(this.beta * (k * p[v] - 1));
      });
      this.each(u, (v, k) => {
        const a = k * p[v];
        out[v] += (g[u] * k * Math.exp(this.beta * (a - 1)) * (1 + this.beta * (a - m[u]))) / z;
      });
    }
    return out;
  }
}

/**
 * Share of the area weight at a step: it grows geometrically from 1/1000 to 1 over the first
 * half of the steps, so the score shapes the mask before the rank loss fixes its area (a
 * full-weight rank loss from the start would pick pixels by their tie order).
 */
function ramp(step: number, steps: number): number {
  const half = Math.max(1, Math.floor(steps / 2));
  return step >= half ? 1 : 1000 ** (step / half - 1);
}

/**
 * Fong, Patrick & Vedaldi, 2019, "Understanding Deep Networks via Extremal Perturbations and Smooth
 * Masks", ICCV, arXiv:1910.08485. For each area fraction a, the mask m of area a that maximises
 * the score of the preserved image Φ(x, m) (or, `deletion`, minimises that of Φ(x, 1−m)):
 * minimise ∓ s_c(Φ)/|s_c(x)| + λ·‖sort(m) − r_a‖² / HW, where r_a is the sorted template of a
 * mask with exactly a·HW ones — the paper's area constraint as a rank loss, which drives m to a
 * near-binary mask of area a; λ grows from λ/1000 to λ over the first half of the steps.
 * m is the paper's smooth parametrisation: parameters p ∈ [0, 1] on a
 * grid `stride` pixels apart, a smooth max-convolution with a Gaussian kernel (so the mask is a
 * union of smooth blobs), then bilinear upsampling. Projected Adam on p. The map is the mean of the
 * masks over the areas. s_c is the run's score (the authors' code reads the model's raw output,
 * the logit). Each step is one streamed gradient pass over items × areas.
 */
export const extremalPerturbation = defineExplainer<
  ExtremalPerturbationOptions,
  ExtremalPerturbationExtras,
  'extremal-perturbation'
>({
  id: 'extremal-perturbation',
  family: 'perturbation',
  title: 'Extremal perturbation',
  citation:
    'Fong, Patrick & Vedaldi, 2019, Understanding Deep Networks via Extremal Perturbations and Smooth Masks, ICCV, arXiv:1910.08485',
  description:
    'Smooth masks of fixed areas that best preserve (or destroy) the score; the map is their mean.',
  requires: ['gradients'],
  mapKind: 'pixel',
  defaults: {
    areas: [0.05, 0.1, 0.2],
    objective: 'preservation',
    steps: 300,
    learningRate: 0.05,
    areaWeight: 300,
    stride: 4,
    smoothing: 0.5,
    sharpness: 20,
    fill: 'blur',
    blurSigma: 5,
  },
  options: {
    areas: { type: 'numbers', doc: 'area fractions of the masks, each in (0, 1)' },
    objective: objectiveSpec,
    steps: { type: 'integer', doc: 'gradient steps', min: 1 },
    learningRate: { type: 'number', doc: 'Adam learning rate', min: 0 },
    areaWeight: { type: 'number', doc: 'weight of the area rank loss', min: 0 },
    stride: { type: 'integer', doc: 'pixels between mask parameters', min: 1 },
    smoothing: { type: 'number', doc: 'max-convolution kernel width, in grid cells', min: 0.1 },
    sharpness: { type: 'number', doc: 'sharpness of the smooth maximum', min: 0 },
    fill: fillSpec,
    blurSigma: blurSigmaSpec,
  },
  validate(options, model, input) {
    const g = geometry(model, input, 'extremal-perturbation');
    if (options.areas.length === 0 || options.areas.some((a) => !(a > 0 && a < 1)))
      throw new OptionError(
        'invalid-option',
        `extremal-perturbation: option areas = [${options.areas.join(', ')}] is invalid; expected one or more fractions in (0, 1)`,
      );
    if (options.stride > Math.min(g.h, g.w))
      throw new OptionError(
        'invalid-option',
        `extremal-perturbation: option stride = ${options.stride} is invalid; expected at most ${Math.min(g.h, g.w)} (the image side)`,
      );
    checkFill(options.fill, model, input);
  },
  async attribute(ctx) {
    const o = ctx.options;
    const g = contextGeometry(ctx);
    const { n, h, w } = g;
    const hw = h * w;
    const areas = o.areas;
    const count = areas.length;
    const rows = n * count;
    const ch = Math.ceil(h / o.stride);
    const cw = Math.ceil(w / o.stride);
    const cells = ch * cw;
    const up = new Upsampler(ch, cw, h, w);
    const smax = new SmoothMaxConv(ch, cw, o.smoothing, o.sharpness);
    const fill = makeFill(ctx, o.fill, o.blurSigma);
    const { clean, scale } = await cleanScales(ctx);
    const params = new Float64Array(rows * cells).fill(0.5);
    const paramsOf = (r: number) => params.subarray(r * cells, (r + 1) * cells);
    const optimisers = Array.from({ length: rows }, (_, r) => new ProjectedAdam(paramsOf(r), o.learningRate));
    // Each row's coarse (max-convolved) and full masks, rebuilt after every update.
    const coarse = new Map<number, Float64Array>();
    const masks = new Map<number, Float32Array>();
    const maskOf = (r: number): Float32Array => {
      let m = masks.get(r);
      if (!m) {
        const c = smax.forward(paramsOf(r));
        coarse.set(r, c);
        m = Float32Array.from(up.forward(c));
        masks.set(r, m);
      }
      return m;
    };
    const keepOf = (r: number) => maskOf(r).map((v) => keepWeight(o.objective, v));
    const item = (r: number) => Math.floor(r / count);
    const grads: Float64Array[] = new Array(rows);
    await descend({
      ctx,
      g,
      fill,
      steps: o.steps,
      rows,
      item,
      keep: keepOf,
      onRow: (step, { row, keepGradient }) => {
        const m = maskOf(row);
        // Score term (see meaningful perturbation): d loss / d m = −(d s / d keep) / scale.
        const pix = new Float64Array(hw);
        for (let p = 0; p < hw; p++) pix[p] = -keepGradient[p] / scale[item(row)];
        // Rank loss: pixels in ascending order against a template of (1−a)·HW zeros then ones.
        const order = Array.from({ length: hw }, (_, p) => p).sort((a, b) => m[a] - m[b] || a - b);
        const zeros = Math.round((1 - areas[row % count]) * hw);
        const weight = o.areaWeight * ramp(step, o.steps);
        for (let k = 0; k < hw; k++) {
          const p = order[k];
          pix[p] += (2 * weight * (m[p] - (k < zeros ? 0 : 1))) / hw;
        }
        grads[row] = smax.backward(paramsOf(row), coarse.get(row)!, up.backward(pix));
      },
      afterStep: () => {
        for (let r = 0; r < rows; r++) optimisers[r].step(grads[r]);
        masks.clear();
        coarse.clear();
      },
    });
    const map = new Float32Array(n * hw);
    const maskArea: number[] = [];
    for (let r = 0; r < rows; r++) {
      const m = maskOf(r);
      let s = 0;
      for (let p = 0; p < hw; p++) {
        map[item(r) * hw + p] += m[p] / count;
        s += m[p];
      }
      maskArea.push(s / hw);
    }
    const masked = await finalScores({ ctx, rows, item, keep: keepOf, g, fill });
    return {
      map: { data: map, shape: [n, h, w] },
      extras: { maskArea, maskedScore: Array.from(masked), cleanScore: Array.from(clean) },
    };
  },
});
