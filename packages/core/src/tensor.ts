import { InputError } from './errors.js';

/**
 * A host-side dense tensor: float32 values in row-major (C) order plus a shape.
 *
 * Layout is a convention of whoever produced it and is stated where it matters:
 * model inputs and input-shaped attributions use the model's `info.layout` (`NCHW` or `NHWC`),
 * layer activations and layer gradients crossing the `Model` contract are always channels-first
 * (`N×C×H×W`, or `N×K` for vectors), and pixel maps are `N×H×W`.
 */
export interface Tensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Make a tensor, checking that `data.length` matches `shape`. */
export function tensor(data: Float32Array | readonly number[], shape: readonly number[]): Tensor {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      throw new InputError(
        'invalid-shape',
        `shape [${shape.join(', ')}] has a dimension that is not a non-negative integer`,
      );
  }
  const values = data instanceof Float32Array ? data : Float32Array.from(data);
  const expected = sizeOf(shape);
  if (values.length !== expected) {
    throw new InputError(
      'invalid-shape',
      `tensor data has ${values.length} values but shape [${shape.join(', ')}] needs ${expected}`,
    );
  }
  return { data: values, shape: [...shape] };
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[]): Tensor {
  return { data: new Float32Array(sizeOf(shape)), shape: [...shape] };
}

/** A tensor filled with one value. */
export function full(shape: readonly number[], value: number): Tensor {
  return { data: new Float32Array(sizeOf(shape)).fill(value), shape: [...shape] };
}

/** A deep copy. */
export function clone(t: Tensor): Tensor {
  return { data: t.data.slice(), shape: [...t.shape] };
}

/** Items `[start, end)` along the first axis, copied. */
export function sliceBatch(t: Tensor, start: number, end: number): Tensor {
  const item = sizeOf(t.shape.slice(1));
  return { data: t.data.slice(start * item, end * item), shape: [end - start, ...t.shape.slice(1)] };
}

/** One item along the first axis as a batch of one (a view, not a copy). */
export function item(t: Tensor, index: number): Tensor {
  const n = sizeOf(t.shape.slice(1));
  return { data: t.data.subarray(index * n, (index + 1) * n), shape: [1, ...t.shape.slice(1)] };
}

/** Stack equally shaped batches along the first axis. */
export function concatBatch(parts: readonly Tensor[]): Tensor {
  if (parts.length === 0) throw new InputError('invalid-input', 'concatBatch needs at least one tensor');
  const rest = parts[0].shape.slice(1);
  let n = 0;
  for (const p of parts) {
    if (p.shape.length !== rest.length + 1 || p.shape.slice(1).some((d, i) => d !== rest[i])) {
      throw new InputError(
        'invalid-shape',
        `cannot stack [${p.shape.join(', ')}] with [${parts[0].shape.join(', ')}]`,
      );
    }
    n += p.shape[0];
  }
  const out = new Float32Array(n * sizeOf(rest));
  let offset = 0;
  for (const p of parts) {
    out.set(p.data, offset);
    offset += p.data.length;
  }
  return { data: out, shape: [n, ...rest] };
}

/** Same data, new shape (sizes must agree). */
export function reshape(t: Tensor, shape: readonly number[]): Tensor {
  if (sizeOf(shape) !== t.data.length) {
    throw new InputError('invalid-shape', `cannot reshape [${t.shape.join(', ')}] to [${shape.join(', ')}]`);
  }
  return { data: t.data, shape: [...shape] };
}

/** Index of the first non-finite value, or -1. */
export function firstNonFinite(data: Float32Array): number {
  // v·0 is ±0 for finite v and NaN for NaN or ±∞, so one multiply-add per value answers "all
  // finite?" (every input is checked, on every call); only a failing array is searched.
  let probe = 0;
  for (let i = 0; i < data.length; i++) probe += data[i] * 0;
  if (probe === 0) return -1;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

/** Whether two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Element-wise map into a new tensor. */
export function map(t: Tensor, fn: (v: number, i: number) => number): Tensor {
  const out = new Float32Array(t.data.length);
  for (let i = 0; i < out.length; i++) out[i] = fn(t.data[i], i);
  return { data: out, shape: [...t.shape] };
}

/** Element-wise combination of equally shaped tensors. */
export function zipWith(a: Tensor, b: Tensor, fn: (x: number, y: number) => number): Tensor {
  if (!sameShape(a.shape, b.shape)) {
    throw new InputError(
      'invalid-shape',
      `shapes differ: [${a.shape.join(', ')}] vs [${b.shape.join(', ')}]`,
    );
  }
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = fn(a.data[i], b.data[i]);
  return { data: out, shape: [...a.shape] };
}

/** Sum of each item along the first axis. */
export function sumPerItem(t: Tensor): Float64Array {
  const n = t.shape[0];
  const m = sizeOf(t.shape.slice(1));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < m; j++) s += t.data[i * m + j];
    out[i] = s;
  }
  return out;
}

/** Most values one input item may hold: 2²⁸ floats (1 GiB), far above any image classifier's input. */
export const maxItemValues = 2 ** 28;

/**
 * Refuse an item shape too large to allocate (a model declaring a dimension of 2⁴⁰, say) with an
 * error naming it, before anything tries and fails with `Invalid typed array length`.
 */
export function checkItemValues(what: string, dims: readonly number[]): void {
  const values = dims.reduce((a, d) => a * Math.max(d, 1), 1);
  if (!(values <= maxItemValues)) {
    throw new InputError(
      'invalid-shape',
      `${what} has an item of shape [${dims.join(', ')}] (${values.toExponential(2)} values); at most ${maxItemValues} values per item are supported`,
    );
  }
}
