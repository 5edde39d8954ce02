import {
  type BaselineSpec,
  baselineNames,
  type ExplainContext,
  felzenszwalb,
  InputError,
  type Model,
  type OptionSpec,
  type OptionSpecs,
  type Segmentation,
  slic,
  type Tensor,
} from '@xlens/core';
import { checkFill, makeFill } from './fill.js';
import { blendPixels, channelsFirst, type Geometry, geometry, itemData } from './image.js';

/** How images are cut into segments: a core superpixel algorithm, or labels given by the user. */
export type SegmentationSpec = 'slic' | 'felzenszwalb' | Tensor;

/** The segmentation options LIME and KernelSHAP share. */
export interface SegmentOptions {
  /**
   * `slic` or `felzenszwalb` (core's superpixels, run on each item rescaled to [0, 1] so the
   * parameters mean the same whatever the model's preprocessing), or a tensor of integer labels
   * `H×W`, `1×H×W` (every item) or `N×H×W`.
   */
  readonly segmentation: SegmentationSpec;
  /** Approximate number of SLIC segments. */
  readonly segments: number;
  /** SLIC compactness (colour units of the [0, 1]-rescaled image; larger: squarer segments). */
  readonly compactness: number;
  /** Felzenszwalb scale k (larger: larger segments). */
  readonly scale: number;
  /** Felzenszwalb: segments smaller than this many pixels are merged into a neighbour. */
  readonly minSize: number;
}

/** Defaults of the segmentation options. */
export const segmentDefaults: SegmentOptions = {
  segmentation: 'slic',
  segments: 50,
  compactness: 0.1,
  scale: 100,
  minSize: 20,
};

/** Option specs of the segmentation options. */
export const segmentSpecs: OptionSpecs<SegmentOptions> = {
  segmentation: {
    type: 'json',
    doc: 'slic, felzenszwalb, or integer labels (H×W, 1×H×W or N×H×W tensor)',
  },
  segments: { type: 'integer', doc: 'approximate number of SLIC segments', min: 1 },
  compactness: { type: 'number', doc: 'SLIC compactness (larger: squarer segments)', min: 0 },
  scale: { type: 'number', doc: 'Felzenszwalb scale k (larger: larger segments)', min: 0 },
  minSize: { type: 'integer', doc: 'Felzenszwalb smallest segment', min: 1 },
};

/** A fill of the segment methods: core's baselines, or `segment-mean` (each segment's mean colour). */
export type SegmentFill = BaselineSpec | 'segment-mean';

/** Option spec of a segment method's `fill`. */
export const segmentFillSpec: OptionSpec = {
  type: 'json',
  doc: `what absent segments become: segment-mean (each segment's mean colour), ${baselineNames.join(', ')}, a number, a .npy path or a tensor`,
};

function labelTensor(spec: Tensor, g: Pick<Geometry, 'n' | 'h' | 'w'>, method: string): void {
  const s = spec.shape;
  const fits =
    (s.length === 2 && s[0] === g.h && s[1] === g.w) ||
    (s.length === 3 && (s[0] === 1 || s[0] === g.n) && s[1] === g.h && s[2] === g.w);
  if (!fits || spec.data.length !== (s.length === 2 ? 1 : s[0]) * g.h * g.w) {
    throw new InputError(
      'invalid-shape',
      `${method}: segmentation labels have shape [${s.join(', ')}]; expected [${g.h}, ${g.w}], [1, ${g.h}, ${g.w}] or [${g.n}, ${g.h}, ${g.w}]`,
    );
  }
  const bad = spec.data.findIndex((v) => !Number.isInteger(v) || v < 0);
  if (bad >= 0) {
    throw new InputError(
      'invalid-input',
      `${method}: segmentation label ${spec.data[bad]} at flat index ${bad} is not an integer ≥ 0`,
    );
  }
}

/** Check the segmentation and fill options before compute. */
export function checkSegmentOptions(
  method: string,
  options: SegmentOptions & { readonly fill: SegmentFill },
  model: Model,
  input: Tensor,
): void {
  const g = geometry(model, input, method);
  const spec = options.segmentation;
  if (typeof spec === 'object' && spec !== null && 'data' in spec) labelTensor(spec, g, method);
  else if (spec !== 'slic' && spec !== 'felzenszwalb') {
    throw new InputError(
      'invalid-input',
      `${method}: segmentation = ${JSON.stringify(spec)} is invalid; expected slic, felzenszwalb or a tensor of labels`,
    );
  }
  if (options.fill !== 'segment-mean') checkFill(options.fill, model, input);
}

/** Relabel `0…K−1` in raster order of first appearance. */
function contiguous(labels: ArrayLike<number>, h: number, w: number): Segmentation {
  const map = new Map<number, number>();
  const out = new Int32Array(h * w);
  for (let p = 0; p < out.length; p++) {
    let l = map.get(labels[p]);
    if (l === undefined) {
      l = map.size;
      map.set(labels[p], l);
    }
    out[p] = l;
  }
  return { labels: out, count: map.size, height: h, width: w };
}

/** The segmentation of every item (deterministic: it depends on the item and the options only). */
export function segmentItems(
  ctx: ExplainContext<unknown>,
  options: SegmentOptions,
  g: Geometry,
): Segmentation[] {
  const hw = g.h * g.w;
  return Array.from({ length: g.n }, (_, i) => {
    const spec = options.segmentation;
    if (typeof spec === 'object') {
      const at = spec.shape.length === 3 && spec.shape[0] === g.n ? i : 0;
      return contiguous(spec.data.subarray(at * hw, (at + 1) * hw), g.h, g.w);
    }
    const x = itemData(ctx.input, g, i);
    let low = Number.POSITIVE_INFINITY;
    let high = Number.NEGATIVE_INFINITY;
    for (const v of x) {
      low = Math.min(low, v);
      high = Math.max(high, v);
    }
    const planes = channelsFirst(g, x);
    const range = high - low || 1;
    const unit = { data: planes.data.map((v) => (v - low) / range), shape: planes.shape };
    return spec === 'slic'
      ? slic(unit, { segments: options.segments, compactness: options.compactness })
      : felzenszwalb(unit, { scale: options.scale, minSize: options.minSize });
  });
}

/** The fill of every item: each segment's mean colour for `segment-mean`, else core's baseline. */
export function makeSegmentFill(
  ctx: ExplainContext<unknown>,
  spec: SegmentFill,
  blurSigma: number,
  g: Geometry,
  segs: readonly Segmentation[],
): Tensor {
  if (spec !== 'segment-mean') return makeFill(ctx, spec, blurSigma);
  const hw = g.h * g.w;
  const out = new Float32Array(g.n * g.per);
  const at = (p: number, ch: number) => (g.layout === 'NCHW' ? ch * hw + p : p * g.c + ch);
  for (let i = 0; i < g.n; i++) {
    const x = itemData(ctx.input, g, i);
    const { labels, count } = segs[i];
    const sums = new Float64Array(count * g.c);
    const sizes = new Float64Array(count);
    for (let p = 0; p < hw; p++) {
      sizes[labels[p]]++;
      for (let ch = 0; ch < g.c; ch++) sums[labels[p] * g.c + ch] += x[at(p, ch)];
    }
    for (let p = 0; p < hw; p++)
      for (let ch = 0; ch < g.c; ch++)
        out[i * g.per + at(p, ch)] = sums[labels[p] * g.c + ch] / sizes[labels[p]];
  }
  return { data: out, shape: [...ctx.input.shape] };
}

/** A set of coalitions of one item: `rows × count` on/off flags, one row per model input. */
export interface Design {
  readonly rows: number;
  readonly count: number;
  /** Row-major flags, 1 = the segment keeps the image. */
  readonly z: Uint8Array;
}

/**
 * Score every coalition row of every item: item i's rows are its image with the segments that are
 * off taken from `fill`. Rows are streamed item after item in chunks of `batchSize`; each item's
 * scores come back in row order.
 */
export async function scoreDesigns(
  ctx: ExplainContext<unknown>,
  g: Geometry,
  segs: readonly Segmentation[],
  fill: Tensor,
  designs: readonly Design[],
  score: (output: Tensor, items: Int32Array) => ArrayLike<number>,
): Promise<Float64Array[]> {
  const offsets = [0];
  for (const d of designs) offsets.push(offsets[offsets.length - 1] + d.rows);
  const itemOf = new Int32Array(offsets[g.n]);
  for (let i = 0; i < g.n; i++) itemOf.fill(i, offsets[i], offsets[i + 1]);
  const out = designs.map((d) => new Float64Array(d.rows));
  const hw = g.h * g.w;
  const mask = new Float32Array(hw);
  await ctx.streamForward(
    {
      rows: itemOf.length,
      items: itemOf,
      input: (start, end) => {
        const data = new Float32Array((end - start) * g.per);
        for (let r = start; r < end; r++) {
          const i = itemOf[r];
          const { z, count } = designs[i];
          const k = r - offsets[i];
          const labels = segs[i].labels;
          for (let p = 0; p < hw; p++) mask[p] = z[k * count + labels[p]];
          blendPixels(g, itemData(ctx.input, g, i), itemData(fill, g, i), mask, data, (r - start) * g.per);
        }
        return { data, shape: [end - start, ...ctx.input.shape.slice(1)] };
      },
    },
    (c) => {
      const s = score(c.output, c.items);
      for (let r = c.start; r < c.end; r++) out[itemOf[r]][r - offsets[itemOf[r]]] = s[r - c.start];
    },
  );
  return out;
}

/** Extras every segment method reports. */
export type SegmentExtras = {
  /** The labels of every item, `N×H×W` flattened. */
  readonly segments: number[];
  /** Segments per item. */
  readonly segmentCount: number[];
  /** Each segment's value (LIME coefficient, Shapley value), item after item. */
  readonly segmentWeights: number[];
};

/** The pixel map of per-segment values, plus the extras every segment method reports. */
export function segmentResult(
  g: Geometry,
  segs: readonly Segmentation[],
  values: readonly Float64Array[],
): { map: Tensor; extras: SegmentExtras } {
  const hw = g.h * g.w;
  const map = new Float32Array(g.n * hw);
  const labels: number[] = [];
  const weights: number[] = [];
  for (let i = 0; i < g.n; i++) {
    for (let p = 0; p < hw; p++) map[i * hw + p] = values[i][segs[i].labels[p]];
    for (const l of segs[i].labels) labels.push(l);
    for (const v of values[i]) weights.push(v);
  }
  return {
    map: { data: map, shape: [g.n, g.h, g.w] },
    extras: { segments: labels, segmentCount: segs.map((s) => s.count), segmentWeights: weights },
  };
}
