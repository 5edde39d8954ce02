import {
  firstNonFinite,
  InputError,
  type Model,
  OptionError,
  type Rng,
  sizeOf,
  type Tensor,
  toChannelsFirst,
  toChannelsLast,
} from '@xlens/core';
import { readNpy } from './npy.js';

/** Named baselines of Integrated Gradients. */
export const baselineNames = ['zero', 'black', 'white', 'blur', 'uniform'] as const;

/**
 * A baseline: a name from `baselineNames`, a constant, a path to a float32 `.npy` file, or a
 * tensor. Files and tensors hold one item (`inputShape` or `1×inputShape`) or one per item.
 */
export type BaselineSpec = (typeof baselineNames)[number] | number | string | Tensor;

function isTensor(v: unknown): v is Tensor {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as Tensor).data instanceof Float32Array &&
    Array.isArray((v as Tensor).shape)
  );
}

/** Low/high bound of every channel from `model.info.inputRange`, for `black`/`white`/`uniform`. */
function channelBounds(
  model: Model,
  input: Tensor,
  name: string,
): { bounds: readonly (readonly [number, number])[]; channelOf: (e: number) => number } {
  const range = model.info.inputRange;
  if (!range) {
    throw new OptionError(
      'invalid-option',
      `baseline ${name} needs model.info.inputRange (the valid input values in the model's own input space, after preprocessing) and ${model.info.name} does not declare it; set inputRange on the model, or use baseline zero, blur, a number or a tensor`,
    );
  }
  const item = input.shape.slice(1);
  const perChannel = Array.isArray(range[0]);
  if (!perChannel) return { bounds: [range as readonly [number, number]], channelOf: () => 0 };
  const pairs = range as readonly (readonly [number, number])[];
  const channels = model.info.layout === 'NCHW' ? item[0] : item[item.length - 1];
  if (pairs.length !== channels) {
    throw new OptionError(
      'invalid-option',
      `model.info.inputRange has ${pairs.length} per-channel pairs but the input has ${channels} channels`,
    );
  }
  const inner = sizeOf(item.slice(1));
  return {
    bounds: pairs,
    channelOf: model.info.layout === 'NCHW' ? (e) => Math.floor(e / inner) : (e) => e % channels,
  };
}

/** A tensor baseline broadcast to the input's shape, or a shape error. */
function broadcast(t: Tensor, input: Tensor, source: string): Tensor {
  const item = input.shape.slice(1);
  const n = input.shape[0];
  const per = sizeOf(item);
  const shape = t.shape;
  const tail = shape.length === item.length ? shape : shape.slice(1);
  const lead = shape.length === item.length ? 1 : shape[0];
  const fits =
    tail.length === item.length &&
    tail.every((d, i) => d === item[i]) &&
    (lead === 1 || lead === n) &&
    t.data.length === lead * per;
  if (!fits) {
    throw new InputError(
      'invalid-shape',
      `${source} has shape [${shape.join(', ')}]; expected [${item.join(', ')}], [1, ${item.join(', ')}] or [${n}, ${item.join(', ')}] (the input's item shape, ${input.shape.length === 4 ? 'layout as the model input' : 'as the model input'})`,
    );
  }
  if (firstNonFinite(t.data) >= 0)
    throw new InputError('non-finite-input', `${source} contains NaN or infinite values`);
  if (lead === n) return { data: t.data, shape: [...input.shape] };
  const out = new Float32Array(n * per);
  for (let i = 0; i < n; i++) out.set(t.data, i * per);
  return { data: out, shape: [...input.shape] };
}

/** Separable Gaussian blur of the spatial axes of a 4-D batch, σ in pixels, edges replicated. */
export function gaussianBlur(input: Tensor, sigma: number, layout: 'NCHW' | 'NHWC'): Tensor {
  if (input.shape.length !== 4)
    throw new InputError(
      'invalid-shape',
      `a blur baseline needs image batches (rank 4), got shape [${input.shape.join(', ')}]`,
    );
  if (sigma <= 0) return { data: input.data.slice(), shape: [...input.shape] };
  const planes = layout === 'NCHW' ? input : toChannelsFirst(input);
  const [n, c, h, w] = planes.shape;
  const radius = Math.ceil(3 * sigma);
  const kernel = new Float64Array(2 * radius + 1);
  let total = 0;
  for (let k = -radius; k <= radius; k++) {
    kernel[k + radius] = Math.exp(-(k * k) / (2 * sigma * sigma));
    total += kernel[k + radius];
  }
  for (let k = 0; k < kernel.length; k++) kernel[k] /= total;
  const tmp = new Float64Array(h * w);
  const out = new Float32Array(planes.data.length);
  for (let p = 0; p < n * c; p++) {
    const src = planes.data.subarray(p * h * w, (p + 1) * h * w);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let k = -radius; k <= radius; k++)
          s += kernel[k + radius] * src[y * w + Math.min(w - 1, Math.max(0, x + k))];
        tmp[y * w + x] = s;
      }
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let k = -radius; k <= radius; k++)
          s += kernel[k + radius] * tmp[Math.min(h - 1, Math.max(0, y + k)) * w + x];
        out[p * h * w + y * w + x] = s;
      }
  }
  const blurred = { data: out, shape: [n, c, h, w] };
  return layout === 'NCHW' ? blurred : toChannelsLast(blurred);
}

/**
 * Check a baseline spec against the model and input before any compute (reads `.npy` files);
 * throws an `XlensError` naming the bad value and the allowed ones.
 */
export function checkBaseline(spec: unknown, model: Model, input: Tensor): void {
  if (isTensor(spec)) return void broadcast(spec, input, 'baseline tensor');
  if (typeof spec === 'number') {
    if (!Number.isFinite(spec))
      throw new OptionError('invalid-option', `baseline = ${spec} is not a finite number`);
    return;
  }
  if (typeof spec === 'string' && spec.toLowerCase().endsWith('.npy'))
    return void broadcast(readNpy(spec), input, `baseline file ${spec}`);
  if (spec === 'black' || spec === 'white' || spec === 'uniform')
    return void channelBounds(model, input, spec);
  if (spec === 'blur' && input.shape.length !== 4) {
    throw new OptionError(
      'invalid-option',
      `baseline blur needs image batches (rank 4); got shape [${input.shape.join(', ')}]`,
    );
  }
  if (spec === 'zero' || spec === 'blur') return;
  throw new OptionError(
    'invalid-option',
    `baseline = ${JSON.stringify(spec)} is invalid; expected one of ${baselineNames.join(', ')}, a number, a path to a float32 .npy file or a tensor`,
  );
}

/** The baseline of every item (`N×inputShape`, the input's layout). */
export function makeBaseline(
  spec: BaselineSpec,
  model: Model,
  input: Tensor,
  blurSigma: number,
  rng: () => Rng,
): Tensor {
  checkBaseline(spec, model, input);
  const shape = [...input.shape];
  if (isTensor(spec)) return broadcast(spec, input, 'baseline tensor');
  if (typeof spec === 'number') return { data: new Float32Array(input.data.length).fill(spec), shape };
  if (spec.toLowerCase().endsWith('.npy')) return broadcast(readNpy(spec), input, `baseline file ${spec}`);
  if (spec === 'zero') return { data: new Float32Array(input.data.length), shape };
  if (spec === 'blur') return gaussianBlur(input, blurSigma, model.info.layout);
  const { bounds, channelOf } = channelBounds(model, input, spec);
  const per = sizeOf(shape.slice(1));
  const out = new Float32Array(input.data.length);
  const draw = spec === 'uniform' ? rng() : null;
  for (let i = 0; i < out.length; i++) {
    const [low, high] = bounds[channelOf(i % per)];
    out[i] = draw ? low + (high - low) * draw.uniform() : spec === 'black' ? low : high;
  }
  return { data: out, shape };
}
