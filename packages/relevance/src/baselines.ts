import { type Model, OptionError, sizeOf, type Tensor } from '@xlens/core';
import { isTensor } from './rules.js';

/** Reference inputs DeepLIFT can compare against. */
export const baselineKinds = ['zero', 'black', 'white', 'mean', 'blur'] as const;
/** One of `baselineKinds`. */
export type BaselineKind = (typeof baselineKinds)[number];

/** Channel count, plane size and channel of a flat index for an item shape in `layout`. */
function geometry(model: Model): {
  c: number;
  h: number;
  w: number;
  channelOf: (j: number) => number;
  index: (ch: number, y: number, x: number) => number;
} {
  const s = model.info.inputShape;
  if (s.length !== 3) return { c: 1, h: 1, w: sizeOf(s), channelOf: () => 0, index: (_c, _y, x) => x };
  if (model.info.layout === 'NCHW') {
    const [c, h, w] = s;
    return {
      c,
      h,
      w,
      channelOf: (j) => Math.floor(j / (h * w)) % c,
      index: (ch, y, x) => (ch * h + y) * w + x,
    };
  }
  const [h, w, c] = s;
  return { c, h, w, channelOf: (j) => j % c, index: (ch, y, x) => (y * w + x) * c + ch };
}

function rangeBound(model: Model, side: 0 | 1, kind: string): (channel: number) => number {
  const range = model.info.inputRange;
  if (!range)
    throw new OptionError(
      'invalid-option',
      `baseline ${kind} needs info.inputRange, which ${model.info.name} does not declare; use zero, mean, blur or a reference input`,
    );
  if (typeof range[0] === 'number') return () => (range as readonly [number, number])[side];
  return (c) => (range as readonly (readonly [number, number])[])[c][side];
}

/** A normalised 1-D Gaussian kernel of standard deviation `sigma` (radius ⌈3σ⌉). */
function gaussian(sigma: number): Float64Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float64Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) s += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  return k.map((v) => v / s);
}

/** Separable Gaussian blur of each channel of each item, edges clamped. */
function blur(model: Model, input: Tensor, sigma: number): Tensor {
  const { c, h, w, index } = geometry(model);
  if (model.info.inputShape.length !== 3)
    throw new OptionError(
      'invalid-option',
      `baseline blur needs image inputs [C, H, W]; ${model.info.name} has [${model.info.inputShape.join(', ')}]`,
    );
  const k = gaussian(sigma);
  const r = (k.length - 1) / 2;
  const m = sizeOf(input.shape.slice(1));
  const out = new Float32Array(input.data.length);
  const tmp = new Float64Array(h * w);
  for (let n = 0; n < input.shape[0]; n++) {
    const item = input.data.subarray(n * m, (n + 1) * m);
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          let s = 0;
          for (let t = -r; t <= r; t++)
            s += k[t + r] * item[index(ch, y, Math.min(w - 1, Math.max(0, x + t)))];
          tmp[y * w + x] = s;
        }
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          let s = 0;
          for (let t = -r; t <= r; t++) s += k[t + r] * tmp[Math.min(h - 1, Math.max(0, y + t)) * w + x];
          out[n * m + index(ch, y, x)] = s;
        }
    }
  }
  return { data: out, shape: [...input.shape] };
}

/**
 * The reference batch (one per item, in the input layout): a given tensor (one item, broadcast, or
 * the whole batch), or one of `baselineKinds`: zeros; the low or high end of `info.inputRange`;
 * each item's per-channel mean; or each item blurred with a Gaussian of `blurSigma` pixels.
 */
export function referenceBatch(
  model: Model,
  input: Tensor,
  kind: BaselineKind,
  options: { reference?: unknown; blurSigma: number },
): Tensor {
  const m = sizeOf(input.shape.slice(1));
  const n = input.shape[0];
  if (options.reference !== undefined && options.reference !== null) {
    const ref = options.reference;
    if (!isTensor(ref) || (ref.data.length !== m && ref.data.length !== n * m)) {
      throw new OptionError(
        'invalid-option',
        `reference must be a tensor holding one input item [${input.shape.slice(1).join(', ')}] or the whole batch [${input.shape.join(', ')}]`,
      );
    }
    const data = new Float32Array(n * m);
    for (let i = 0; i < n; i++)
      data.set(ref.data.length === m ? ref.data : ref.data.slice(i * m, (i + 1) * m), i * m);
    return { data, shape: [...input.shape] };
  }
  const { c, channelOf } = geometry(model);
  const data = new Float32Array(n * m);
  switch (kind) {
    case 'zero':
      break;
    case 'black':
    case 'white': {
      const bound = rangeBound(model, kind === 'black' ? 0 : 1, kind);
      for (let j = 0; j < data.length; j++) data[j] = bound(channelOf(j % m));
      break;
    }
    case 'mean':
      for (let i = 0; i < n; i++) {
        const s = new Float64Array(c);
        for (let j = 0; j < m; j++) s[channelOf(j)] += input.data[i * m + j];
        for (let j = 0; j < m; j++) data[i * m + j] = (s[channelOf(j)] * c) / m;
      }
      break;
    case 'blur':
      return blur(model, input, options.blurSigma);
    default:
      throw new OptionError(
        'invalid-option',
        `baseline ${JSON.stringify(kind)} is unknown; expected one of ${baselineKinds.join(', ')}`,
      );
  }
  return { data, shape: [...input.shape] };
}
