import { type ExplainContext, InputError, type Layout, type Model, type Tensor } from '@xlens/core';

/** Sizes of an image batch and how a pixel's channels sit in one item. */
export interface Geometry {
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  /** Values per item, `c·h·w`. */
  readonly per: number;
  readonly layout: Layout;
}

/** The geometry of `input`, or an `InputError` when it is not a batch of images (rank 4). */
export function geometry(model: Model, input: Tensor, method: string): Geometry {
  if (input.shape.length !== 4) {
    throw new InputError(
      'invalid-shape',
      `${method} perturbs image batches (rank 4, ${model.info.layout}); got shape [${input.shape.join(', ')}]`,
    );
  }
  const [n, a, b, d] = input.shape;
  const [c, h, w] = model.info.layout === 'NCHW' ? [a, b, d] : [d, a, b];
  return { n, c, h, w, per: c * h * w, layout: model.info.layout };
}

/** The geometry of a context's input. */
export function contextGeometry(ctx: ExplainContext<unknown>): Geometry {
  return geometry(ctx.model, ctx.input, ctx.method);
}

/**
 * Write `fill + mask ⊙ (x − fill)` for one item at `out[offset…]`: `mask` holds one weight per
 * pixel (`h·w`), applied to every channel. `x` and `fill` are that item's values.
 */
export function blendPixels(
  g: Geometry,
  x: Float32Array,
  fill: Float32Array,
  mask: ArrayLike<number>,
  out: Float32Array,
  offset: number,
): void {
  const hw = g.h * g.w;
  if (g.layout === 'NCHW') {
    for (let ch = 0; ch < g.c; ch++)
      for (let p = 0; p < hw; p++) {
        const e = ch * hw + p;
        out[offset + e] = fill[e] + mask[p] * (x[e] - fill[e]);
      }
  } else {
    for (let p = 0; p < hw; p++)
      for (let ch = 0; ch < g.c; ch++) {
        const e = p * g.c + ch;
        out[offset + e] = fill[e] + mask[p] * (x[e] - fill[e]);
      }
  }
}

/**
 * Copy one item to `out[offset…]` with the rectangle `[top, bottom) × [left, right)` (all
 * channels) taken from `fill` instead.
 */
export function fillRect(
  g: Geometry,
  x: Float32Array,
  fill: Float32Array,
  rect: { top: number; bottom: number; left: number; right: number },
  out: Float32Array,
  offset: number,
): void {
  out.set(x, offset);
  const hw = g.h * g.w;
  for (let y = rect.top; y < rect.bottom; y++) {
    if (g.layout === 'NCHW') {
      for (let ch = 0; ch < g.c; ch++) {
        const s = ch * hw + y * g.w;
        out.set(fill.subarray(s + rect.left, s + rect.right), offset + s + rect.left);
      }
    } else {
      const s = (y * g.w + rect.left) * g.c;
      const e = (y * g.w + rect.right) * g.c;
      out.set(fill.subarray(s, e), offset + s);
    }
  }
}

/** Values of item `i` of a batch tensor. */
export function itemData(t: Tensor, g: Geometry, i: number): Float32Array {
  return t.data.subarray(i * g.per, (i + 1) * g.per);
}

/** One item as channels-first planes `C×H×W` (for segmentation). */
export function channelsFirst(g: Geometry, x: Float32Array): Tensor {
  if (g.layout === 'NCHW') return { data: x, shape: [g.c, g.h, g.w] };
  const hw = g.h * g.w;
  const out = new Float32Array(g.per);
  for (let p = 0; p < hw; p++) for (let ch = 0; ch < g.c; ch++) out[ch * hw + p] = x[p * g.c + ch];
  return { data: out, shape: [g.c, g.h, g.w] };
}
