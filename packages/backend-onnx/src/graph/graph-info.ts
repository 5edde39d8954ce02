import { tensorNumbers } from '../proto/tensor-data.js';
import {
  DataType,
  type OnnxAttribute,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
} from '../proto/types.js';
import { foldableOps, foldNode } from './constant-fold.js';

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
 * (initializers, `Constant` nodes and what folds from them, see `constant`) and, after a probe,
 * every tensor's shape and type.
 */
export class GraphInfo {
  readonly model: OnnxModel;
  /** Node index producing each tensor. */
  readonly producer = new Map<string, number>();
  /** Node indices reading each tensor. */
  readonly consumers = new Map<string, number[]>();
  /**
   * Initializers and `Constant` node values by tensor name: the stored constants only. Code that
   * reads a value (weights, biases, axes) asks `constant(name)`, which also folds input-independent
   * chains such as the `Identity` nodes PyTorch puts between a shared initializer and its users.
   */
  readonly constants = new Map<string, OnnxTensor>();
  /** Probe facts by tensor name. */
  readonly facts: Map<string, TensorFacts>;
  /** Default-domain opset version. */
  readonly opset: number;
  /** Folded values by tensor name (null: not constant). */
  private readonly folded = new Map<string, OnnxTensor | null>();
  private runtime?: Set<string>;

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
        const floats = attr(n, 'value_floats')?.floats;
        if (floats && n.output[0])
          this.constants.set(n.output[0], {
            dataType: DataType.FLOAT,
            dims: [floats.length],
            floatData: floats,
          });
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

  /**
   * Tensors whose values change with what is fed to the graph: its inputs that are not
   * initializers (the model input), and every node output reading one of them.
   */
  get inputDependent(): ReadonlySet<string> {
    if (!this.runtime) {
      const inits = new Set(this.model.graph.initializer.map((t) => t.name));
      const set = new Set(this.model.graph.input.map((v) => v.name).filter((x) => !inits.has(x)));
      for (const n of this.nodes)
        if (n.input.some((x) => x && set.has(x))) for (const y of n.output) if (y) set.add(y);
      this.runtime = set;
    }
    return this.runtime;
  }

  /**
   * The value of a tensor that does not depend on the model input: an initializer, a `Constant`
   * node's value, or the output of a chain of `foldableOps` over such tensors (folded on the host
   * once, then cached; `Identity` hands over the very tensor it reads). Undefined otherwise.
   */
  constant(name: string): OnnxTensor | undefined {
    if (!name) return undefined;
    const stored = this.constants.get(name);
    if (stored) return stored;
    const known = this.folded.get(name);
    if (known !== undefined) return known ?? undefined;
    const node = this.producerOf(name);
    let value: OnnxTensor | undefined;
    if (
      node &&
      node.output[0] === name &&
      !this.inputDependent.has(name) &&
      foldableOps.includes(node.opType)
    ) {
      const inputs = node.input.map((x) => (x ? this.constant(x) : undefined));
      if (node.input.every((x, i) => !x || inputs[i])) value = foldNode(node, inputs);
    }
    this.folded.set(name, value ?? null);
    return value;
  }

  /** Why `constant(name)` is undefined, as a phrase after the tensor's name (for messages). */
  whyNotConstant(name: string): string {
    const node = this.producerOf(name);
    if (!node) {
      return this.inputDependent.has(name)
        ? 'is a graph input'
        : 'is neither an initializer nor produced by any node';
    }
    const label = `node ${node.name || node.output[0]} (op ${node.opType})`;
    if (this.inputDependent.has(name)) return `comes from ${label}, which depends on the model input`;
    if (!foldableOps.includes(node.opType) || node.output[0] !== name) {
      return `comes from ${label}, which xlens does not evaluate ahead of time (it folds ${foldableOps.join(', ')})`;
    }
    const open = node.input.find((x) => x && !this.constant(x));
    if (open) return `comes from ${label}, whose input ${open} ${this.whyNotConstant(open)}`;
    return `comes from ${label}, whose element types or attributes xlens cannot fold`;
  }

  /** Values of a tensor known without running the model: a constant, or a batch-independent probe value. */
  constantValues(name: string): number[] | undefined {
    if (!name) return undefined;
    const c = this.constant(name);
    if (c) return Array.from(tensorNumbers(c));
    return this.facts.get(name)?.values as number[] | undefined;
  }

  /** Element type of a tensor (probe, initializer or graph input), or undefined. */
  dtype(name: string): number | undefined {
    const f = this.facts.get(name);
    if (f) return f.dtype;
    const c = this.constant(name);
    if (c) return c.dataType;
    const v = this.model.graph.input.find((i) => i.name === name);
    return v?.type?.tensorType?.elemType;
  }

  /** Dims of a tensor at batch 2, from the probe or the constant's dims. */
  shape(name: string): readonly number[] | undefined {
    return this.facts.get(name)?.shape2 ?? this.constant(name)?.dims;
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
