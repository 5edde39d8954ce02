import { tensorNumbers } from '../proto/tensor-data.js';
import {
  DataType,
  type OnnxAttribute,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
} from '../proto/types.js';

/** Shapes and element types of a graph's tensors, measured by a probe run at batch 1 and 2. */
export interface TensorFacts {
  /** ONNX element type. */
  readonly dtype: number;
  /** Dims with a batch of 1 and of 2 (equal for tensors that do not depend on the batch). */
  readonly shape1: readonly number[];
  readonly shape2: readonly number[];
  /** Values of small integer tensors when they do not depend on the batch size. */
  readonly values?: readonly number[];
}

const decoder = new TextDecoder();

/** An attribute's value by name, if present. */
export function attr(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attribute.find((a) => a.name === name);
}

/** An INT attribute. */
export function attrInt(node: OnnxNode, name: string, fallback: number): number {
  const a = attr(node, name);
  return a?.i ?? fallback;
}

/** A FLOAT attribute. */
export function attrFloat(node: OnnxNode, name: string, fallback: number): number {
  const a = attr(node, name);
  return a?.f ?? fallback;
}

/** An INTS attribute. */
export function attrInts(node: OnnxNode, name: string): number[] | undefined {
  const a = attr(node, name);
  return a ? (a.ints ?? []) : undefined;
}

/** A STRING attribute. */
export function attrString(node: OnnxNode, name: string, fallback: string): string {
  const a = attr(node, name);
  return a?.s ? decoder.decode(a.s) : fallback;
}

/**
 * An index over a graph: who produces and consumes each tensor, the constant tensors
 * (initializers and `Constant` nodes) and, after a probe, every tensor's shape and type.
 */
export class GraphInfo {
  readonly model: OnnxModel;
  /** Node index producing each tensor. */
  readonly producer = new Map<string, number>();
  /** Node indices reading each tensor. */
  readonly consumers = new Map<string, number[]>();
  /** Initializers and `Constant` node values by tensor name. */
  readonly constants = new Map<string, OnnxTensor>();
  /** Probe facts by tensor name. */
  readonly facts: Map<string, TensorFacts>;
  /** Default-domain opset version. */
  readonly opset: number;

  /** `facts` may be shared with the index of another version of the same graph (same tensor names). */
  constructor(model: OnnxModel, facts: Map<string, TensorFacts> = new Map()) {
    this.model = model;
    this.facts = facts;
    this.opset = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 1;
    for (const t of model.graph.initializer) if (t.name) this.constants.set(t.name, t);
    model.graph.node.forEach((n, i) => {
      for (const y of n.output) if (y) this.producer.set(y, i);
      for (const x of n.input) {
        if (!x) continue;
        const list = this.consumers.get(x);
        if (list) list.push(i);
        else this.consumers.set(x, [i]);
      }
      if (n.opType === 'Constant' && (!n.domain || n.domain === 'ai.onnx')) {
        const value = attr(n, 'value')?.t;
        if (value && n.output[0]) this.constants.set(n.output[0], value);
        const ints = attrInts(n, 'value_ints');
        if (ints && n.output[0])
          this.constants.set(n.output[0], { dataType: DataType.INT64, dims: [ints.length], int64Data: ints });
        const int = attr(n, 'value_int')?.i;
        if (int !== undefined && n.output[0])
          this.constants.set(n.output[0], { dataType: DataType.INT64, dims: [], int64Data: [int] });
        const f = attr(n, 'value_float')?.f;
        if (f !== undefined && n.output[0])
          this.constants.set(n.output[0], { dataType: DataType.FLOAT, dims: [], floatData: [f] });
      }
    });
  }

  get nodes(): readonly OnnxNode[] {
    return this.model.graph.node;
  }

  /** The node producing a tensor, if any. */
  producerOf(name: string): OnnxNode | undefined {
    const i = this.producer.get(name);
    return i === undefined ? undefined : this.model.graph.node[i];
  }

  /** The nodes consuming a tensor. */
  consumersOf(name: string): OnnxNode[] {
    return (this.consumers.get(name) ?? []).map((i) => this.model.graph.node[i]);
  }

  /** Values of a tensor known without running the model: a constant, or a batch-independent probe value. */
  constantValues(name: string): number[] | undefined {
    if (!name) return undefined;
    const c = this.constants.get(name);
    if (c) return Array.from(tensorNumbers(c));
    return this.facts.get(name)?.values as number[] | undefined;
  }

  /** Element type of a tensor (probe, initializer or graph input), or undefined. */
  dtype(name: string): number | undefined {
    const f = this.facts.get(name);
    if (f) return f.dtype;
    const c = this.constants.get(name);
    if (c) return c.dataType;
    const v = this.model.graph.input.find((i) => i.name === name);
    return v?.type?.tensorType?.elemType;
  }

  /** Dims of a tensor at batch 2, from the probe or the constant's dims. */
  shape(name: string): readonly number[] | undefined {
    return this.facts.get(name)?.shape2 ?? this.constants.get(name)?.dims;
  }

  /** Rank of a tensor. */
  rank(name: string): number | undefined {
    return this.shape(name)?.length;
  }
}

/** Whether an ONNX element type is a floating-point type (the only ones gradients flow through). */
export function isFloatType(dtype: number | undefined): boolean {
  return (
    dtype === DataType.FLOAT ||
    dtype === DataType.DOUBLE ||
    dtype === DataType.FLOAT16 ||
    dtype === DataType.BFLOAT16
  );
}
