import { UnsupportedError } from '@xlens/core';
import type { Step } from '../graph.js';

/** GraphDef JSON helpers of `graphModelTwin`: attribute encodings, node shapes, Keras fields. */

export type Attr = Record<string, unknown>;
export interface NodeDef {
  name: string;
  op: string;
  input?: string[];
  attr?: Attr;
}

export const b64 = (s: string): string => btoa(s);
export const ints = (xs: readonly number[]) => ({ list: { i: xs.map(String) } });
export const strs = (xs: readonly string[]) => ({ list: { s: xs.map(b64) } });
export const float = { type: 'DT_FLOAT' };
export const shapeAttr = (dims: readonly number[]) => ({ dim: dims.map((d) => ({ size: String(d) })) });
const activationOps: Record<string, string> = {
  relu: 'Relu',
  relu6: 'Relu6',
  elu: 'Elu',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  softmax: 'Softmax',
};

export interface KerasLike {
  readonly activation?: { getClassName(): string };
  readonly maxValue?: number | null;
  readonly alpha?: number;
  readonly strides?: number | number[];
  readonly padding?: string | number[][];
  readonly dilationRate?: number | number[];
  readonly poolSize?: number[];
  readonly axis?: number | number[];
  readonly epsilon?: number;
  readonly targetShape?: number[];
}

export const pair = (v: number | number[] | undefined): [number, number] =>
  v === undefined ? [1, 1] : Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v, v];

/** A step's activation as a GraphDef op (null for linear). */
export function activationOf(step: Step): string | null {
  const a = (step.layer as KerasLike).activation?.getClassName() ?? 'linear';
  if (a === 'linear') return null;
  const op = activationOps[a];
  if (!op) throw new UnsupportedError('unsupported', `graphModelTwin: activation ${a} of ${step.name}`);
  return op;
}
