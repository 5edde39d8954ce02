import { UnsupportedError } from '@xlens/core';
import { DataType, type OnnxTensor } from './types.js';

/** Bytes per element of an ONNX data type, 0 for strings and unknown types. */
export function elementSize(dataType: number): number {
  switch (dataType) {
    case DataType.FLOAT:
    case DataType.INT32:
    case DataType.UINT32:
      return 4;
    case DataType.DOUBLE:
    case DataType.INT64:
    case DataType.UINT64:
      return 8;
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
    case DataType.INT16:
    case DataType.UINT16:
      return 2;
    case DataType.UINT8:
    case DataType.INT8:
    case DataType.BOOL:
      return 1;
    default:
      return 0;
  }
}

/** Number of elements of a dims list. */
export function countOf(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** A copy of the raw bytes in a fresh, aligned buffer. */
function aligned(raw: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(raw.length);
  copy.set(raw);
  return copy.buffer;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/**
 * The values of a numeric tensor as plain numbers (float64 precision). 64-bit integers beyond
 * ±2^53 saturate to ±Infinity-free large values, which is what "to the end" sentinels need.
 */
export function tensorNumbers(t: OnnxTensor): Float64Array {
  const n = countOf(t.dims);
  const out = new Float64Array(n);
  if (t.dataLocation === 1) {
    throw new UnsupportedError(
      'invalid-model',
      `tensor ${t.name ?? ''} is stored externally and was not loaded`,
    );
  }
  if (t.rawData && t.rawData.length > 0) {
    const buf = aligned(t.rawData);
    const view = new DataView(buf);
    for (let i = 0; i < n; i++) {
      switch (t.dataType) {
        case DataType.FLOAT:
          out[i] = view.getFloat32(i * 4, true);
          break;
        case DataType.DOUBLE:
          out[i] = view.getFloat64(i * 8, true);
          break;
        case DataType.INT64:
          out[i] = Number(view.getBigInt64(i * 8, true));
          break;
        case DataType.UINT64:
          out[i] = Number(view.getBigUint64(i * 8, true));
          break;
        case DataType.INT32:
          out[i] = view.getInt32(i * 4, true);
          break;
        case DataType.UINT32:
          out[i] = view.getUint32(i * 4, true);
          break;
        case DataType.INT16:
          out[i] = view.getInt16(i * 2, true);
          break;
        case DataType.UINT16:
          out[i] = view.getUint16(i * 2, true);
          break;
        case DataType.FLOAT16:
          out[i] = halfToFloat(view.getUint16(i * 2, true));
          break;
        case DataType.BFLOAT16:
          out[i] = new Float32Array(new Uint32Array([view.getUint16(i * 2, true) << 16]).buffer)[0];
          break;
        case DataType.INT8:
          out[i] = view.getInt8(i);
          break;
        case DataType.UINT8:
        case DataType.BOOL:
          out[i] = view.getUint8(i);
          break;
        default:
          throw new UnsupportedError(
            'unsupported',
            `tensor ${t.name ?? ''} has data type ${t.dataType}, which xlens cannot read`,
          );
      }
    }
    return out;
  }
  const src =
    t.dataType === DataType.FLOAT || t.dataType === DataType.FLOAT16 || t.dataType === DataType.BFLOAT16
      ? t.floatData
      : t.dataType === DataType.DOUBLE
        ? t.doubleData
        : t.dataType === DataType.INT64
          ? t.int64Data
          : t.dataType === DataType.UINT64 || t.dataType === DataType.UINT32
            ? t.uint64Data
            : t.int32Data;
  if (t.dataType === DataType.FLOAT16 && t.int32Data?.length) {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(t.int32Data[i]);
    return out;
  }
  const values = src && src.length > 0 ? src : (t.int32Data ?? []);
  if (values.length !== n) {
    throw new UnsupportedError(
      'invalid-model',
      `tensor ${t.name ?? ''} has ${values.length} values for dims [${t.dims.join(', ')}]`,
    );
  }
  for (let i = 0; i < n; i++) out[i] = values[i];
  return out;
}

/** The values of a numeric tensor as float32. */
export function tensorFloat32(t: OnnxTensor): Float32Array {
  if (t.dataType === DataType.FLOAT && t.rawData && t.rawData.length === countOf(t.dims) * 4) {
    return new Float32Array(aligned(t.rawData));
  }
  return Float32Array.from(tensorNumbers(t));
}

/** A float32 tensor stored as raw little-endian bytes. */
export function floatTensor(
  name: string,
  values: Float32Array | readonly number[],
  dims: readonly number[],
): OnnxTensor {
  const data = values instanceof Float32Array ? values : Float32Array.from(values);
  if (data.length !== countOf(dims)) {
    throw new UnsupportedError(
      'invalid-model',
      `tensor ${name}: ${data.length} values for dims [${dims.join(', ')}]`,
    );
  }
  const bytes = new Uint8Array(data.length * 4);
  new Float32Array(bytes.buffer).set(data);
  return { name, dataType: DataType.FLOAT, dims: [...dims], rawData: bytes };
}

/** An int64 tensor stored as raw little-endian bytes. */
export function int64Tensor(
  name: string,
  values: readonly number[],
  dims: readonly number[] = [values.length],
): OnnxTensor {
  const bytes = new Uint8Array(values.length * 8);
  const view = new BigInt64Array(bytes.buffer);
  const max = 9223372036854775807n;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    view[i] = v >= 2 ** 63 ? max : v <= -(2 ** 63) ? -max - 1n : BigInt(Math.trunc(v));
  }
  return { name, dataType: DataType.INT64, dims: [...dims], rawData: bytes };
}
