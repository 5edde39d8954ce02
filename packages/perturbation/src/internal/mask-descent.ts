import {
  type BackwardSeed,
  type ExplainContext,
  OptionError,
  resizeBilinear,
  type Tensor,
} from '@xlens/core';
import { blendPixels, type Geometry, itemData } from './image.js';

/**
 * Which game a mask plays (Fong & Vedaldi 2017): `deletion` — the smallest destroying region
 * (SDR), the image keeps `1 − m` and the score should fall; `preservation` — the smallest
 * sufficient region (SSR), the image keeps `m` and the score should stay.
 */
export type MaskObjective = 'deletion' | 'preservation';

/** Option spec of `objective`. */
export const objectiveSpec = {
  type: 'enum',
  doc: 'deletion: smallest destroying region (SDR); preservation: smallest sufficient region (SSR)',
  values: ['deletion', 'preservation'],
} as const;

/** Weight on the image (`1` keeps the pixel) of a pixel whose mask value is `m`. */
export function keepWeight(objective: MaskObjective, m: number): number {
  return objective === 'deletion' ? 1 - m : m;
}

/**
 * Adam on a flat parameter vector, projected onto [0, 1] after each step (the papers clamp their
 * masks the same way). Moments in float64.
 */
export class ProjectedAdam {
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private t = 0;
  constructor(
    readonly params: Float64Array,
    private readonly lr: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly eps = 1e-8,
  ) {
    this.m = new Float64Array(params.length);
    this.v = new Float64Array(params.length);
  }
  step(grad: Float64Array): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    for (let j = 0; j < grad.length; j++) {
      this.m[j] = this.beta1 * this.m[j] + (1 - this.beta1) * grad[j];
      this.v[j] = this.beta2 * this.v[j] + (1 - this.beta2) * grad[j] * grad[j];
      const next = this.params[j] - (this.lr * this.m[j]) / c1 / (Math.sqrt(this.v[j] / c2) + this.eps);
      this.params[j] = Math.min(1, Math.max(0, next));
    }
  }
}

/**
 * Bilinear upsampling of a `ch×cw` grid to `h×w` as two matrices, m = R·p·Cᵀ, built from core's
 * `resizeBilinear` (the convention of every upsampling in xlens), so its adjoint Rᵀ·G·C is exact.
 * The identity when the grid is the image size.
 */
export class Upsampler {
  private readonly rows: Float64Array; // h×ch
  private readonly cols: Float64Array; // w×cw
  constructor(
    readonly ch: number,
    readonly cw: number,
    readonly h: number,
    readonly w: number,
  ) {
    this.rows = Upsampler.profile(ch, h);
    this.cols = Upsampler.profile(cw, w);
  }
  /** Weight of source cell j at output position y, for a 1-D resize n → size. */
  private static profile(n: number, size: number): Float64Array {
    const out = new Float64Array(size * n);
    for (let j = 0; j < n; j++) {
      const e = new Float32Array(n);
      e[j] = 1;
      const up = resizeBilinear({ data: e, shape: [1, 1, n] }, 1, size);
      for (let y = 0; y < size; y++) out[y * n + j] = up.data[y];
    }
    return out;
  }
  /** `h·w` values of the upsampled grid `p` (`ch·cw`). */
  forward(p: ArrayLike<number>): Float64Array {
    const { ch, cw, h, w } = this;
    const tmp = new Float64Array(ch * w);
    for (let i = 0; i < ch; i++)
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let j = 0; j < cw; j++) s += p[i * cw + j] * this.cols[x * cw + j];
        tmp[i * w + x] = s;
      }
    const out = new Float64Array(h * w);
    for (let y = 0; y < h; y++)
      for (let i = 0; i < ch; i++) {
        const r = this.rows[y * ch + i];
        if (r === 0) continue;
        for (let x = 0; x < w; x++) out[y * w + x] += r * tmp[i * w + x];
      }
    return out;
  }
  /** The adjoint: the gradient on the grid of a gradient `g` on the `h×w` image. */
  backward(g: ArrayLike<number>): Float64Array {
    const { ch, cw, h, w } = this;
    const tmp = new Float64Array(ch * w);
    for (let y = 0; y < h; y++)
      for (let i = 0; i < ch; i++) {
        const r = this.rows[y * ch + i];
        if (r === 0) continue;
        for (let x = 0; x < w; x++) tmp[i * w + x] += r * g[y * w + x];
      }
    const out = new Float64Array(ch * cw);
    for (let i = 0; i < ch; i++)
      for (let x = 0; x < w; x++)
        for (let j = 0; j < cw; j++) out[i * cw + j] += tmp[i * w + x] * this.cols[x * cw + j];
    return out;
  }
}

/**
 * Total variation Σ|Δ|^β over horizontal and vertical neighbour pairs of an `h×w` grid, divided by
 * the number of pairs; adds its gradient times `weight` to `grad` and returns the value.
 */
export function totalVariation(
  p: ArrayLike<number>,
  h: number,
  w: number,
  beta: number,
  weight: number,
  grad: Float64Array,
): number {
  const pairs = Math.max(1, h * (w - 1) + (h - 1) * w);
  let sum = 0;
  const pair = (a: number, b: number) => {
    const d = p[a] - p[b];
    const ad = Math.abs(d);
    sum += ad ** beta;
    const gd = (weight * beta * ad ** (beta - 1) * Math.sign(d)) / pairs;
    grad[a] += gd;
    grad[b] -= gd;
  };
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      if (x + 1 < w) pair(y * w + x, y * w + x + 1);
      if (y + 1 < h) pair(y * w + x, (y + 1) * w + x);
    }
  return sum / pairs;
}

/** What one descent step hands a method for one row. */
export interface RowGradient {
  /** Row index (item-major for methods with several masks per item). */
  readonly row: number;
  /** The row's target score under its current perturbation. */
  readonly score: number;
  /** d score / d keep-weight, per pixel (`h·w`): the input gradient contracted with x − fill. */
  readonly keepGradient: Float64Array;
}

/** Gradient filtering of FGVis: the layers filtered and each item's activations on the clean image. */
export interface GradientFilter {
  /** Layers to filter, from the output towards the input. */
  readonly layers: readonly string[];
  /** Clean activations by layer, `N×…` channels-first. */
  readonly clean: Readonly<Record<string, Tensor>>;
  /** +1 when the method descends on the score (deletion), −1 when it ascends (preservation). */
  readonly sign: (row: number) => number;
}

/** A mask optimisation: rows of perturbed images, one gradient pass per step through core's streams. */
export interface Descent {
  readonly ctx: ExplainContext<unknown>;
  readonly g: Geometry;
  readonly fill: Tensor;
  readonly steps: number;
  readonly rows: number;
  /** The batch item of a row. */
  readonly item: (row: number) => number;
  /** Current keep weights of a row (`h·w`, 1 keeps the image). */
  readonly keep: (row: number) => ArrayLike<number>;
  /** Fold one row's gradient into the method's state (called in row order, once per step). */
  readonly onRow: (step: number, r: RowGradient) => void;
  /** After all rows of a step: update the parameters. */
  readonly afterStep: (step: number) => void;
  readonly filter?: GradientFilter;
}

/** Build rows [start, end) of the perturbed images. */
function buildRows(d: Descent, start: number, end: number): Tensor {
  const { ctx, g, fill } = d;
  const out = new Float32Array((end - start) * g.per);
  for (let r = start; r < end; r++) {
    const i = d.item(r);
    const keep = d.keep(r);
    blendPixels(
      g,
      itemData(ctx.input, g, i),
      itemData(fill, g, i),
      keep instanceof Float32Array ? keep : Float32Array.from(keep),
      out,
      (r - start) * g.per,
    );
  }
  return { data: out, shape: [end - start, ...ctx.input.shape.slice(1)] };
}

/** d score / d keep weight per pixel: Σ over channels of ∂score/∂x̃ · (x − fill). */
function contract(d: Descent, row: number, grad: Float32Array): Float64Array {
  const { g, ctx, fill } = d;
  const i = d.item(row);
  const x = itemData(ctx.input, g, i);
  const f = itemData(fill, g, i);
  const hw = g.h * g.w;
  const out = new Float64Array(hw);
  if (g.layout === 'NCHW') {
    for (let ch = 0; ch < g.c; ch++)
      for (let p = 0; p < hw; p++) {
        const e = ch * hw + p;
        out[p] += grad[e] * (x[e] - f[e]);
      }
  } else {
    for (let p = 0; p < hw; p++)
      for (let ch = 0; ch < g.c; ch++) {
        const e = p * g.c + ch;
        out[p] += grad[e] * (x[e] - f[e]);
      }
  }
  return out;
}

/**
 * Zero the cotangent of a layer where following it downhill would raise an activation to or past
 * its value on the clean image: FGVis's defence against adversarial evidence (the perturbed
 * image may only show what the clean image shows). `sign` turns score cotangents into loss ones.
 */
function filterCotangent(
  cot: Float32Array,
  perturbed: Float32Array,
  clean: Float32Array,
  sign: number,
): Float32Array {
  const out = new Float32Array(cot.length);
  for (let e = 0; e < cot.length; e++) {
    // Descent moves the activation by −sign·cot: it rises when sign·cot < 0.
    const rises = sign * cot[e] < 0;
    out[e] = rises && perturbed[e] >= clean[e] ? 0 : cot[e];
  }
  return out;
}

/** Slice of an item's per-item tensor (first axis the batch). */
function itemSlice(t: Tensor, i: number): Float32Array {
  const per = t.data.length / t.shape[0];
  return t.data.subarray(i * per, (i + 1) * per);
}

/**
 * Run the descent: each step is one `streamGradient` over all rows (core chunks them by
 * `batchSize`, checks abort before every chunk and reports progress), or, with a gradient filter,
 * one stream per filtered layer plus one to the input.
 */
export async function descend(d: Descent): Promise<void> {
  const { ctx, steps, rows } = d;
  const passes = d.filter ? d.filter.layers.length + 1 : 1;
  const total = steps * rows * passes;
  for (let step = 0; step < steps; step++) {
    const progress = (pass: number) => (done: number) =>
      ctx.progress((step * passes + pass) * rows + done, total);
    if (!d.filter) {
      await ctx.streamGradient(
        {
          rows,
          items: d.item,
          input: (start, end) => buildRows(d, start, end),
          progress: progress(0),
        },
        (c) => {
          const scores = ctx.scores(c.output, c.items);
          const per = d.g.per;
          for (let r = c.start; r < c.end; r++) {
            const grad = c.inputGradient!.data.subarray((r - c.start) * per, (r - c.start + 1) * per);
            d.onRow(step, { row: r, score: scores[r - c.start], keepGradient: contract(d, r, grad) });
          }
        },
      );
    } else {
      const { layers, clean, sign } = d.filter;
      const scores = new Float32Array(rows);
      // Filtered cotangent of each row at the layer the next pass starts from.
      let seeds: Float32Array[] = [];
      let seedShape: readonly number[] = [];
      for (let pass = 0; pass < passes; pass++) {
        const layer = layers[pass];
        const from = pass > 0 ? layers[pass - 1] : undefined;
        const next: Float32Array[] = new Array(rows);
        let nextShape: readonly number[] = [];
        const prior = seeds;
        const priorShape = seedShape;
        await ctx.streamGradient(
          {
            rows,
            items: d.item,
            input: (start, end) => buildRows(d, start, end),
            progress: progress(pass),
            wrtInput: layer === undefined,
            ...(layer !== undefined ? { wrtLayers: [layer], capture: [layer] } : {}),
            ...(from !== undefined
              ? {
                  seed: (start: number, end: number): BackwardSeed => {
                    const per = prior[start].length;
                    const data = new Float32Array((end - start) * per);
                    for (let r = start; r < end; r++) data.set(prior[r], (r - start) * per);
                    return {
                      kind: 'layer',
                      layer: from,
                      cotangent: { data, shape: [end - start, ...priorShape] },
                    };
                  },
                }
              : {}),
          },
          (c) => {
            if (pass === 0) {
              const s = ctx.scores(c.output, c.items);
              for (let r = c.start; r < c.end; r++) scores[r] = s[r - c.start];
            }
            if (layer !== undefined) {
              const cot = c.layerGradients[layer];
              const act = c.activations[layer];
              const per = cot.data.length / cot.shape[0];
              nextShape = cot.shape.slice(1);
              for (let r = c.start; r < c.end; r++) {
                const k = r - c.start;
                next[r] = filterCotangent(
                  cot.data.subarray(k * per, (k + 1) * per),
                  act.data.subarray(k * per, (k + 1) * per),
                  itemSlice(clean[layer], d.item(r)),
                  sign(r),
                );
              }
            } else {
              const per = d.g.per;
              for (let r = c.start; r < c.end; r++) {
                const grad = c.inputGradient!.data.subarray((r - c.start) * per, (r - c.start + 1) * per);
                d.onRow(step, { row: r, score: scores[r], keepGradient: contract(d, r, grad) });
              }
            }
          },
        );
        seeds = next;
        seedShape = nextShape;
      }
    }
    d.afterStep(step);
  }
}

/** Check that a number option lies in (0, 1]. */
export function checkFraction(method: string, key: string, v: number): void {
  if (!(v > 0 && v <= 1))
    throw new OptionError(
      'invalid-option',
      `${method}: option ${key} = ${v} is invalid; expected a value in (0, 1]`,
    );
}

/** Clean scores of every item (one streamed forward pass), floored away from zero for scaling. */
export async function cleanScales(
  ctx: ExplainContext<unknown>,
): Promise<{ clean: Float32Array; scale: Float64Array }> {
  const out = await ctx.forward(ctx.input);
  const clean = ctx.scores(out);
  const scale = Float64Array.from(clean, (s) => Math.max(Math.abs(s), 1e-6));
  return { clean, scale };
}

/** Final target scores of masked rows: one streamed forward pass. */
export async function finalScores(
  d: Pick<Descent, 'ctx' | 'rows' | 'item' | 'keep' | 'g' | 'fill'>,
): Promise<Float32Array> {
  const scores = new Float32Array(d.rows);
  await d.ctx.streamForward(
    {
      rows: d.rows,
      items: d.item,
      input: (start, end) => buildRows(d as Descent, start, end),
      progress: false,
    },
    (c) => {
      const s = d.ctx.scores(c.output, c.items);
      for (let r = c.start; r < c.end; r++) scores[r] = s[r - c.start];
    },
  );
  return scores;
}
