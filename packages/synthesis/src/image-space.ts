import { InputError, type Layout, type Model, OptionError, type Tensor } from '@xlens/core';

/** The image geometry of a synthesis run. Images are held channels-first per item. */
export interface Geometry {
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly layout: Layout;
  /** Values per item, `c·h·w`. */
  readonly size: number;
}

/** The valid values of each input channel and the neutral value between them. */
export interface ValueRange {
  readonly lo: Float32Array;
  readonly hi: Float32Array;
  /** Midpoint of each channel (0 when unbounded): the origin of L2 and norm priors, the fill of warps. */
  readonly centre: Float32Array;
  /** Whether the range is known (model `inputRange` or the `range` option). */
  readonly bounded: boolean;
}

/** The geometry of an image batch in the model's layout; anything but rank 4 is an `InputError`. */
export function geometryOf(model: Model, input: Tensor, method: string): Geometry {
  if (input.shape.length !== 4)
    throw new InputError(
      'invalid-shape',
      `${method} synthesises images: it needs an image batch (rank 4), got shape [${input.shape.join(', ')}]`,
    );
  const layout = model.info.layout;
  const [n, a, b, d] = input.shape;
  const [c, h, w] = layout === 'NCHW' ? [a, b, d] : [d, a, b];
  return { n, c, h, w, layout, size: c * h * w };
}

/**
 * The range of each channel: the `range` option (`[lo, hi]`, all channels) when given, else the
 * model's `inputRange`, else unbounded (centre 0).
 */
export function rangeOf(
  model: Model,
  channels: number,
  option: readonly number[],
  method: string,
): ValueRange {
  const lo = new Float32Array(channels).fill(Number.NEGATIVE_INFINITY);
  const hi = new Float32Array(channels).fill(Number.POSITIVE_INFINITY);
  let bounded = true;
  if (option.length > 0) {
    if (option.length !== 2 || !(option[0] < option[1]))
      throw new OptionError(
        'invalid-option',
        `${method}: option range = [${option.join(', ')}] is invalid; expected [low, high] with low < high`,
      );
    lo.fill(option[0]);
    hi.fill(option[1]);
  } else {
    const r = model.info.inputRange;
    if (!r) bounded = false;
    else if (typeof r[0] === 'number') {
      lo.fill(r[0] as number);
      hi.fill(r[1] as number);
    } else
      for (let k = 0; k < channels; k++) {
        const pair =
          (r as readonly (readonly [number, number])[])[k] ??
          (r as readonly (readonly [number, number])[])[0];
        lo[k] = pair[0];
        hi[k] = pair[1];
      }
  }
  const centre = Float32Array.from(lo, (l, k) => (bounded ? (l + hi[k]) / 2 : 0));
  return { lo, hi, centre, bounded };
}

/** Rows `[start, end)` of channels-first item images as a batch in the model's layout. */
export function toModelRows(
  images: readonly Float32Array[],
  start: number,
  end: number,
  g: Geometry,
): Tensor {
  const out = new Float32Array((end - start) * g.size);
  const plane = g.h * g.w;
  for (let r = start; r < end; r++) {
    const src = images[r];
    const base = (r - start) * g.size;
    if (g.layout === 'NCHW') out.set(src, base);
    else
      for (let k = 0; k < g.c; k++)
        for (let p = 0; p < plane; p++) out[base + p * g.c + k] = src[k * plane + p];
  }
  return {
    data: out,
    shape: g.layout === 'NCHW' ? [end - start, g.c, g.h, g.w] : [end - start, g.h, g.w, g.c],
  };
}

/** Item `r` of a batch in the model's layout, channels-first. */
export function itemChannelsFirst(batch: Float32Array, r: number, g: Geometry): Float32Array {
  const src = batch.subarray(r * g.size, (r + 1) * g.size);
  if (g.layout === 'NCHW') return src.slice();
  const out = new Float32Array(g.size);
  const plane = g.h * g.w;
  for (let k = 0; k < g.c; k++) for (let p = 0; p < plane; p++) out[k * plane + p] = src[p * g.c + k];
  return out;
}

/** Channels-first item images as one batch in the model's layout. */
export function toModelBatch(images: readonly Float32Array[], g: Geometry): Tensor {
  return toModelRows(images, 0, images.length, g);
}

/** Clamp every value of a channels-first image to its channel's range. */
export function clampToRange(x: Float32Array, g: Geometry, range: ValueRange): void {
  if (!range.bounded) return;
  const plane = g.h * g.w;
  for (let k = 0; k < g.c; k++)
    for (let p = k * plane; p < (k + 1) * plane; p++)
      x[p] = Math.min(range.hi[k], Math.max(range.lo[k], x[p]));
}
