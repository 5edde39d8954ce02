import { countOf, floatTensor, int64Tensor, tensorNumbers } from '../proto/tensor-data.js';
import { DataType, type OnnxAttribute, type OnnxNode, type OnnxTensor } from '../proto/types.js';

/**
 * Ops xlens evaluates on the host when all their inputs are constant, so that a weight reached
 * through them (PyTorch exports feed shared initializers through `Identity`; other exporters
 * `Cast`, `Reshape` or `Transpose` them, or scale them with `Mul`) is seen as the constant it is.
 */
export const foldableOps: readonly string[] = [
  'Identity',
  'Cast',
  'Reshape',
  'Transpose',
  'Squeeze',
  'Unsqueeze',
  'Flatten',
  'Concat',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Neg',
  'Sqrt',
  'Reciprocal',
];

/** A tensor's values in float64 (exact for every element type folded) with its type and dims. */
interface Values {
  readonly dataType: number;
  readonly dims: readonly number[];
  readonly data: Float64Array;
}

const integerTypes: ReadonlySet<number> = new Set([
  DataType.INT64,
  DataType.INT32,
  DataType.INT16,
  DataType.INT8,
  DataType.UINT8,
  DataType.UINT16,
  DataType.UINT32,
  DataType.UINT64,
]);

/** Element types whose folded values can be written back (others: not folded). */
const writable: ReadonlySet<number> = new Set([
  DataType.FLOAT,
  DataType.DOUBLE,
  DataType.INT64,
  DataType.INT32,
  DataType.BOOL,
]);

function attribute(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attribute.find((a) => a.name === name);
}

function read(t: OnnxTensor): Values | undefined {
  if (!writable.has(t.dataType) || t.dataLocation === 1) return undefined;
  return { dataType: t.dataType, dims: t.dims, data: tensorNumbers(t) };
}

/** Values of an element type: rounded to float32, truncated and wrapped to integers, 0/1 for bools. */
function convert(data: Float64Array, to: number): Float64Array {
  if (to === DataType.FLOAT) return Float64Array.from(Float32Array.from(data));
  if (to === DataType.DOUBLE) return data;
  if (to === DataType.BOOL) return data.map((v) => (v !== 0 ? 1 : 0));
  if (to === DataType.INT32) return Float64Array.from(Int32Array.from(data, (v) => Math.trunc(v) | 0));
  return data.map((v) => Math.trunc(v));
}

function write(name: string, v: Values): OnnxTensor | undefined {
  if (v.data.some((x) => Number.isNaN(x)) && integerTypes.has(v.dataType)) return undefined;
  switch (v.dataType) {
    case DataType.FLOAT:
      return floatTensor(name, Float32Array.from(v.data), v.dims);
    case DataType.INT64:
      return int64Tensor(name, Array.from(v.data), v.dims);
    case DataType.DOUBLE:
      return { name, dataType: DataType.DOUBLE, dims: [...v.dims], doubleData: Array.from(v.data) };
    case DataType.INT32:
    case DataType.BOOL:
      return { name, dataType: v.dataType, dims: [...v.dims], int32Data: Array.from(v.data) };
    default:
      return undefined;
  }
}

function axesOf(node: OnnxNode, inputs: readonly (Values | undefined)[], rank: number): number[] | undefined {
  const raw = attribute(node, 'axes')?.ints ?? (inputs[1] ? Array.from(inputs[1].data) : undefined);
  return raw?.map((a) => (a < 0 ? a + rank : a));
}

function transpose(v: Values, perm: readonly number[]): Values {
  const rank = v.dims.length;
  const dims = perm.map((p) => v.dims[p]);
  const strides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) strides[i] = strides[i + 1] * v.dims[i + 1];
  const out = new Float64Array(v.data.length);
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let i = 0; i < rank; i++) src += index[i] * strides[perm[i]];
    out[o] = v.data[src];
    for (let i = rank - 1; i >= 0; i--) {
      if (++index[i] < dims[i]) break;
      index[i] = 0;
    }
  }
  return { dataType: v.dataType, dims, data: out };
}

function reshape(v: Values, shape: readonly number[], allowZero: boolean): Values | undefined {
  const dims = shape.map((d, i) => (d === 0 && !allowZero ? v.dims[i] : d));
  const known = dims.filter((d) => d !== -1);
  if (dims.length - known.length > 1) return undefined;
  const rest = countOf(known);
  const full = dims.map((d) => (d === -1 ? (rest === 0 ? 0 : v.data.length / rest) : d));
  if (full.some((d) => d === undefined || !Number.isInteger(d) || d < 0)) return undefined;
  return countOf(full) === v.data.length ? { ...v, dims: full } : undefined;
}

function concat(parts: readonly Values[], rawAxis: number): Values | undefined {
  const rank = parts[0].dims.length;
  const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
  const same = (v: Values) =>
    v.dataType === parts[0].dataType &&
    v.dims.length === rank &&
    v.dims.every((d, i) => i === axis || d === parts[0].dims[i]);
  if (axis < 0 || axis >= rank || !parts.every(same)) return undefined;
  const outer = countOf(parts[0].dims.slice(0, axis));
  const dims = [...parts[0].dims];
  dims[axis] = parts.reduce((s, v) => s + v.dims[axis], 0);
  const out = new Float64Array(countOf(dims));
  let at = 0;
  for (let o = 0; o < outer; o++) {
    for (const v of parts) {
      const block = v.data.length / Math.max(outer, 1);
      out.set(v.data.subarray(o * block, (o + 1) * block), at);
      at += block;
    }
  }
  return { dataType: parts[0].dataType, dims, data: out };
}

/** Numpy broadcasting of two operands; undefined when the dims do not broadcast. */
function broadcast(a: Values, b: Values, f: (x: number, y: number) => number): Values | undefined {
  if (a.dataType !== b.dataType) return undefined;
  const rank = Math.max(a.dims.length, b.dims.length);
  const pad = (d: readonly number[]) => [...new Array(rank - d.length).fill(1), ...d];
  const da = pad(a.dims);
  const db = pad(b.dims);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) {
    if (da[i] !== db[i] && da[i] !== 1 && db[i] !== 1) return undefined;
    dims.push(da[i] === 1 ? db[i] : da[i]);
  }
  const stride = (d: readonly number[]) => {
    const s = new Array<number>(rank).fill(0);
    let acc = 1;
    for (let i = rank - 1; i >= 0; i--) {
      s[i] = d[i] === 1 ? 0 : acc;
      acc *= d[i];
    }
    return s;
  };
  const sa = stride(da);
  const sb = stride(db);
  const out = new Float64Array(countOf(dims));
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let ia = 0;
    let ib = 0;
    for (let i = 0; i < rank; i++) {
      ia += index[i] * sa[i];
      ib += index[i] * sb[i];
    }
    out[o] = f(a.data[ia], b.data[ib]);
    for (let i = rank - 1; i >= 0; i--) {
      if (++index[i] < dims[i]) break;
      index[i] = 0;
    }
  }
  return { dataType: a.dataType, dims, data: out };
}

/** Results of arithmetic in the element type: float32 rounding, integer truncation. */
function typed(v: Values | undefined): Values | undefined {
  return v && { ...v, data: convert(v.data, v.dataType) };
}

function evaluate(node: OnnxNode, inputs: readonly (Values | undefined)[]): Values | undefined {
  const x = inputs[0];
  if (!x) return undefined;
  const rank = x.dims.length;
  const int = integerTypes.has(x.dataType);
  switch (node.opType) {
    case 'Identity':
      return x;
    case 'Cast': {
      const to = attribute(node, 'to')?.i;
      return to !== undefined && writable.has(to)
        ? { dataType: to, dims: x.dims, data: convert(x.data, to) }
        : undefined;
    }
    case 'Reshape': {
      const shape = inputs[1];
      return shape ? reshape(x, Array.from(shape.data), !!attribute(node, 'allowzero')?.i) : undefined;
    }
    case 'Transpose': {
      const perm = attribute(node, 'perm')?.ints ?? x.dims.map((_, i) => rank - 1 - i);
      return perm.length === rank ? transpose(x, perm) : undefined;
    }
    case 'Squeeze': {
      const axes = axesOf(node, inputs, rank) ?? x.dims.flatMap((d, i) => (d === 1 ? [i] : []));
      if (axes.some((a) => x.dims[a] !== 1)) return undefined;
      return { ...x, dims: x.dims.filter((_, i) => !axes.includes(i)) };
    }
    case 'Unsqueeze': {
      const out = rank + (attribute(node, 'axes')?.ints ?? inputs[1]?.data ?? []).length;
      const axes = axesOf(node, inputs, out);
      if (!axes) return undefined;
      const dims: number[] = [];
      let k = 0;
      for (let i = 0; i < out; i++) dims.push(axes.includes(i) ? 1 : x.dims[k++]);
      return k === rank ? { ...x, dims } : undefined;
    }
    case 'Flatten': {
      const raw = attribute(node, 'axis')?.i ?? 1;
      const axis = raw < 0 ? raw + rank : raw;
      return { ...x, dims: [countOf(x.dims.slice(0, axis)), countOf(x.dims.slice(axis))] };
    }
    case 'Concat': {
      const axis = attribute(node, 'axis')?.i;
      const parts = inputs.filter((v): v is Values => !!v);
      return axis === undefined || parts.length !== node.input.filter((t) => t).length
        ? undefined
        : concat(parts, axis);
    }
    case 'Add':
      return inputs[1] && typed(broadcast(x, inputs[1], (a, b) => a + b));
    case 'Sub':
      return inputs[1] && typed(broadcast(x, inputs[1], (a, b) => a - b));
    case 'Mul':
      return inputs[1] && typed(broadcast(x, inputs[1], (a, b) => a * b));
    case 'Div':
      return int
        ? inputs[1] && typed(broadcast(x, inputs[1], (a, b) => (b === 0 ? Number.NaN : Math.trunc(a / b))))
        : inputs[1] && typed(broadcast(x, inputs[1], (a, b) => a / b));
    case 'Neg':
      return typed({ ...x, data: x.data.map((v) => -v) });
    case 'Sqrt':
      return int ? undefined : typed({ ...x, data: x.data.map(Math.sqrt) });
    case 'Reciprocal':
      return int ? undefined : typed({ ...x, data: x.data.map((v) => 1 / v) });
    default:
      return undefined;
  }
}

/**
 * The value of `node`'s first output from its constant inputs, or undefined when the op is not
 * in `foldableOps` or its inputs, attributes or element types are outside what xlens folds.
 * `Identity` returns its input tensor itself (no copy), so a shared weight stays one array.
 */
export function foldNode(
  node: OnnxNode,
  inputs: readonly (OnnxTensor | undefined)[],
): OnnxTensor | undefined {
  if ((node.domain && node.domain !== 'ai.onnx') || !foldableOps.includes(node.opType)) return undefined;
  if (node.opType === 'Identity') return inputs[0];
  const values = inputs.map((t) => (t ? read(t) : undefined));
  if (values.some((v, i) => node.input[i] && !v)) return undefined;
  const out = evaluate(node, values);
  return out && write(node.output[0], out);
}
