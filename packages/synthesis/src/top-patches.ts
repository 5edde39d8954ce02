import {
  type ExplainContext,
  findLayer,
  type LayerInfo,
  type Model,
  OptionError,
  type Tensor,
} from '@xlens/core';
import { type DataRunOptions, dataContext } from './data-context.js';
import { geometryOf, itemChannelsFirst, rangeOf, toModelRows } from './image-space.js';

/** The receptive field of a layer's units: the input box of its centre unit and the stride between units. */
export interface ReceptiveField {
  /** Input box `[y0, x0, y1, x1]` (inclusive) of the centre unit `(cy, cx)`. */
  readonly box: readonly [number, number, number, number];
  readonly centre: readonly [number, number];
  /** Input pixels between neighbouring units. */
  readonly stride: readonly [number, number];
}

/** The patches of a data set that most activate one channel. */
export interface UnitPatches {
  readonly channel: number;
  /** Data-set indices of the images, best first (one patch per image). */
  readonly items: readonly number[];
  /** The channel's largest activation in each of those images. */
  readonly scores: readonly number[];
  /** Where in the layer's map it occurred, `[y, x]`. */
  readonly positions: readonly (readonly [number, number])[];
  /** Input boxes `[y0, x0, y1, x1]` (inclusive, may reach past the image) of the patches. */
  readonly boxes: readonly (readonly [number, number, number, number])[];
  /** The patches, `k×…` in the model's layout; outside the image, the range centre. */
  readonly patches: Tensor;
}

/**
 * The receptive field of `layer`, measured through the contract: the input box where the gradient
 * of the centre unit (all channels) is non-zero, over up to four of the images, with DeconvNet's
 * ReLU rule when the model offers `relu-rules` (so silent units count). Architecture-free; without
 * relu-rules, units silent on every probe can make it smaller than the theoretical field.
 */
export async function receptiveField(
  ctx: ExplainContext<unknown>,
  layer: LayerInfo,
): Promise<ReceptiveField> {
  const g = geometryOf(ctx.model, ctx.input, ctx.method);
  const [c, h, w] = layer.outputShape.length === 3 ? layer.outputShape : [layer.outputShape[0], 1, 1];
  const cy = Math.floor(h / 2);
  const cx = Math.floor(w / 2);
  const rows = Math.min(4, g.n);
  const plane = g.h * g.w;
  const hit = new Uint8Array(plane);
  await ctx.streamGradient(
    {
      rows,
      input: (s, e) => ({
        data: ctx.input.data.subarray(s * g.size, e * g.size),
        shape: [e - s, ...ctx.input.shape.slice(1)],
      }),
      progress: false,
      // DeconvNet's ReLU rule passes positive cotangents whether or not the unit fired, so units that
      // are silent on the probes still show their whole field.
      ...(ctx.model.capabilities.has('relu-rules') ? { rules: { relu: 'deconvnet' as const } } : {}),
      seed(s, e) {
        const cot = new Float32Array((e - s) * c * h * w);
        for (let r = 0; r < e - s; r++) for (let k = 0; k < c; k++) cot[((r * c + k) * h + cy) * w + cx] = 1;
        return {
          kind: 'layer',
          layer: layer.name,
          cotangent: { data: cot, shape: [e - s, ...layer.outputShape] },
        };
      },
    },
    (chunk) => {
      for (let r = 0; r < chunk.end - chunk.start; r++) {
        const gi = itemChannelsFirst(chunk.inputGradient!.data, r, g);
        for (let k = 0; k < g.c; k++) for (let p = 0; p < plane; p++) if (gi[k * plane + p] !== 0) hit[p] = 1;
      }
    },
  );
  let [y0, x0, y1, x1] = [g.h, g.w, -1, -1];
  for (let p = 0; p < plane; p++)
    if (hit[p]) {
      const y = Math.floor(p / g.w);
      const x = p % g.w;
      [y0, x0, y1, x1] = [Math.min(y0, y), Math.min(x0, x), Math.max(y1, y), Math.max(x1, x)];
    }
  const stride: [number, number] = [g.h / h, g.w / w];
  if (y1 < 0) {
    // No gradient reached the input (dead unit on every probe): fall back to one stride cell.
    const top = Math.round(cy * stride[0]);
    const left = Math.round(cx * stride[1]);
    return {
      box: [top, left, top + Math.ceil(stride[0]) - 1, left + Math.ceil(stride[1]) - 1],
      centre: [cy, cx],
      stride,
    };
  }
  return { box: [y0, x0, y1, x1], centre: [cy, cx], stride };
}

/**
 * Zeiler & Fergus, 2014, "Visualizing and Understanding Convolutional Networks", ECCV,
 * arXiv:1311.2901: for each channel of `layer`, the `k` images of a data set where the channel
 * responds most (its largest activation over positions), and the input patch under that unit — its
 * receptive field, measured by `receptiveField`, or `patchSize` centred on the unit. Images are
 * streamed in chunks of `batchSize`; only per-image maxima are kept.
 */
export async function topPatches(
  model: Model,
  images: Tensor,
  options: {
    readonly layer: string;
    readonly channels?: readonly number[];
    readonly k?: number;
    readonly patchSize?: readonly [number, number];
  },
  run?: DataRunOptions,
): Promise<UnitPatches[]> {
  const ctx = dataContext(
    'top-patches',
    model,
    images,
    ['layers', 'capture', 'gradients', 'layer-gradients'],
    run,
  );
  const g = geometryOf(model, images, 'top-patches');
  const layer = findLayer(model, options.layer);
  const [c, h, w] = layer.outputShape.length === 3 ? layer.outputShape : [layer.outputShape[0], 1, 1];
  const channels = options.channels ?? Array.from({ length: c }, (_, k) => k);
  for (const k of channels)
    if (!Number.isInteger(k) || k < 0 || k >= c)
      throw new OptionError(
        'invalid-option',
        `top-patches: channel ${k} is out of range; ${layer.name} has ${c} channels`,
      );
  const k = options.k ?? 9;
  const best = new Float32Array(g.n * c);
  const where = new Int32Array(g.n * c);
  await ctx.streamCapture(
    {
      rows: g.n,
      input: (s, e) => ({
        data: images.data.subarray(s * g.size, e * g.size),
        shape: [e - s, ...images.shape.slice(1)],
      }),
      layers: [layer.name],
    },
    (chunk) => {
      const a = chunk.activations[layer.name].data;
      for (let r = 0; r < chunk.end - chunk.start; r++)
        for (let ch = 0; ch < c; ch++) {
          let m = Number.NEGATIVE_INFINITY;
          let at = 0;
          for (let p = 0; p < h * w; p++) {
            const v = a[(r * c + ch) * h * w + p];
            if (v > m) [m, at] = [v, p];
          }
          best[(chunk.start + r) * c + ch] = m;
          where[(chunk.start + r) * c + ch] = at;
        }
    },
  );
  let field: ReceptiveField;
  if (options.patchSize) {
    const [ph, pw] = options.patchSize;
    const stride: [number, number] = [g.h / h, g.w / w];
    const cy = Math.floor(h / 2);
    const cx = Math.floor(w / 2);
    const top = Math.round((cy + 0.5) * stride[0] - ph / 2);
    const left = Math.round((cx + 0.5) * stride[1] - pw / 2);
    field = { box: [top, left, top + ph - 1, left + pw - 1], centre: [cy, cx], stride };
  } else field = await receptiveField(ctx, layer);
  const centre = rangeOf(model, g.c, [], 'top-patches').centre;
  return channels.map((ch) => patchesOf(ch, best, where, c, w, k, field, images, g, centre));
}

function patchesOf(
  ch: number,
  best: Float32Array,
  where: Int32Array,
  c: number,
  w: number,
  k: number,
  field: ReceptiveField,
  images: Tensor,
  g: ReturnType<typeof geometryOf>,
  centre: Float32Array,
): UnitPatches {
  const order = Array.from({ length: g.n }, (_, i) => i).sort(
    (a, b) => best[b * c + ch] - best[a * c + ch] || a - b,
  );
  const items = order.slice(0, Math.min(k, g.n));
  const [by0, bx0, by1, bx1] = field.box;
  const ph = by1 - by0 + 1;
  const pw = bx1 - bx0 + 1;
  const pg = { ...g, n: items.length, h: ph, w: pw, size: g.c * ph * pw };
  const positions: [number, number][] = [];
  const boxes: [number, number, number, number][] = [];
  const crops = items.map((i) => {
    const at = where[i * c + ch];
    const pos: [number, number] = [Math.floor(at / w), at % w];
    const dy = Math.round((pos[0] - field.centre[0]) * field.stride[0]);
    const dx = Math.round((pos[1] - field.centre[1]) * field.stride[1]);
    positions.push(pos);
    boxes.push([by0 + dy, bx0 + dx, by1 + dy, bx1 + dx]);
    const src = itemChannelsFirst(images.data, i, g);
    const crop = new Float32Array(pg.size);
    for (let q = 0; q < g.c; q++)
      for (let y = 0; y < ph; y++)
        for (let x = 0; x < pw; x++) {
          const sy = by0 + dy + y;
          const sx = bx0 + dx + x;
          const inside = sy >= 0 && sy < g.h && sx >= 0 && sx < g.w;
          crop[(q * ph + y) * pw + x] = inside ? src[(q * g.h + sy) * g.w + sx] : centre[q];
        }
    return crop;
  });
  return {
    channel: ch,
    items,
    scores: items.map((i) => best[i * c + ch]),
    positions,
    boxes,
    patches: toModelRows(crops, 0, crops.length, pg),
  };
}
