import { createRng } from '@xlens/core';
import { DataType } from '../proto/types.js';
import type * as ortTypes from '../runtime.js';
import { createSession, floatInput, type SessionOptions } from '../session.js';
import type { GraphInfo, TensorFacts } from './graph-info.js';
import { shallowCopy } from './prepare.js';

const typeCodes: Record<string, number> = {
  float32: DataType.FLOAT,
  float64: DataType.DOUBLE,
  float16: DataType.FLOAT16,
  int64: DataType.INT64,
  int32: DataType.INT32,
  int16: DataType.INT16,
  int8: DataType.INT8,
  uint8: DataType.UINT8,
  uint16: DataType.UINT16,
  uint32: DataType.UINT32,
  uint64: DataType.UINT64,
  bool: DataType.BOOL,
  string: DataType.STRING,
};

/** What a probe learnt beyond per-tensor facts. */
export interface ProbeResult {
  /** Whether the model accepts a batch larger than 1 (false when a reshape pins the batch). */
  readonly dynamicBatch: boolean;
}

const smallValues = 64;

function valuesOf(t: ortTypes.Tensor): number[] | undefined {
  if (t.size > smallValues) return undefined;
  const d = t.data;
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return Array.from(d, (v) => Number(v));
  if (d instanceof Int32Array || d instanceof Uint8Array || d instanceof Int8Array) return Array.from(d);
  return undefined;
}

/**
 * Run the model once at batch 1 and once at batch 2 with every node output exposed, and record
 * each tensor's type, dims and (small integer tensors) values into `info.facts`. The dims at two
 * batch sizes tell which axes follow the batch, which the backward pass needs to undo broadcasts.
 */
export async function probeGraph(
  info: GraphInfo,
  inputName: string,
  itemDims: readonly number[],
  options: SessionOptions,
): Promise<ProbeResult> {
  const model = shallowCopy(info.model);
  const seen = new Set(model.graph.output.map((o) => o.name));
  for (const n of model.graph.node) {
    for (const y of n.output) {
      if (y && !seen.has(y)) {
        seen.add(y);
        model.graph.output.push({ name: y });
      }
    }
  }
  const session = await createSession(model, options, 'model (probe)');
  try {
    const names = session.outputNames.filter((name) => {
      const meta = session.outputMetadata.find((m) => m.name === name);
      return meta?.isTensor !== false;
    });
    const itemSize = itemDims.reduce((a, b) => a * b, 1);
    const rng = createRng(1234);
    const item = new Float32Array(itemSize).map(() => rng.uniform());
    const run = async (n: number) => {
      const data = new Float32Array(n * itemSize);
      for (let i = 0; i < n; i++) data.set(item, i * itemSize);
      return session.run({ [inputName]: floatInput(options.runtime, data, [n, ...itemDims]) }, names);
    };
    const one = await run(1);
    let two: Record<string, ortTypes.Tensor> | undefined;
    try {
      two = await run(2);
    } catch {
      two = undefined;
    }
    for (const name of names) {
      const a = one[name];
      if (!a) continue;
      const b = two?.[name];
      const dtype = typeCodes[a.type] ?? DataType.UNDEFINED;
      const v1 = valuesOf(a);
      const v2 = b ? valuesOf(b) : v1;
      const sameValues =
        v1 !== undefined && v2 !== undefined && v1.length === v2.length && v1.every((v, i) => v === v2[i]);
      const facts: TensorFacts = {
        dtype,
        shape1: [...a.dims],
        shape2: b ? [...b.dims] : [...a.dims],
        ...(sameValues ? { values: v1 } : {}),
      };
      info.facts.set(name, facts);
    }
    info.facts.set(inputName, {
      dtype: DataType.FLOAT,
      shape1: [1, ...itemDims],
      shape2: [two ? 2 : 1, ...itemDims],
    });
    return { dynamicBatch: two !== undefined };
  } finally {
    await session.release();
  }
}
