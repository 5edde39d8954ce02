import { UnsupportedError } from '@xlens/core';
import { floatTensor, int64Tensor } from './proto/tensor-data.js';
import {
  AttributeType,
  DataType,
  type OnnxAttribute,
  type OnnxDimension,
  type OnnxGraph,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from './proto/types.js';

/** Forces a number (or list) to be written as a FLOAT(S) attribute even when it is integral. */
export interface FloatAttribute {
  readonly float: number | readonly number[];
}

/** An attribute value: numbers are INT unless the attribute name is a known float one (see `floatAttr`). */
export type AttributeValue =
  | number
  | string
  | readonly number[]
  | readonly string[]
  | OnnxTensor
  | FloatAttribute;

/** Wrap a value so it is written as a float attribute (e.g. `alpha: floatAttr(1)`). */
export function floatAttr(value: number | readonly number[]): FloatAttribute {
  return { float: value };
}

// Attribute names that are floats in every standard op that has them, so callers can pass plain numbers.
const floatNames = new Set([
  'alpha',
  'beta',
  'bias',
  'epsilon',
  'momentum',
  'gamma',
  'lambd',
  'ratio',
  'cubic_coeff_a',
  'extrapolation_value',
  'value_float',
  'min',
  'max',
  'spatial_scale',
  'scales',
]);

const encoder = new TextEncoder();

/** Build one `AttributeProto` from a plain value. */
export function makeAttribute(name: string, value: AttributeValue): OnnxAttribute {
  if (typeof value === 'object' && value !== null && 'float' in value) {
    const v = (value as FloatAttribute).float;
    return typeof v === 'number'
      ? { name, type: AttributeType.FLOAT, f: v }
      : { name, type: AttributeType.FLOATS, floats: [...v] };
  }
  if (typeof value === 'number') {
    return floatNames.has(name) || !Number.isInteger(value)
      ? { name, type: AttributeType.FLOAT, f: value }
      : { name, type: AttributeType.INT, i: value };
  }
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: encoder.encode(value) };
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'string')) {
      return {
        name,
        type: AttributeType.STRINGS,
        strings: (value as string[]).map((v) => encoder.encode(v)),
      };
    }
    const nums = value as number[];
    return floatNames.has(name) || nums.some((v) => !Number.isInteger(v))
      ? { name, type: AttributeType.FLOATS, floats: [...nums] }
      : { name, type: AttributeType.INTS, ints: [...nums] };
  }
  return { name, type: AttributeType.TENSOR, t: value as OnnxTensor };
}

/** A dimension: a size, a symbolic name (`'N'`) or unknown (`null`). */
export type DimSpec = number | string | null;

/** A `ValueInfoProto` for a tensor of the given element type and dims. */
export function valueInfo(
  name: string,
  dims: readonly DimSpec[] | undefined,
  dataType: number = DataType.FLOAT,
): OnnxValueInfo {
  const tensorType: { elemType: number; shape?: { dim: OnnxDimension[] } } = { elemType: dataType };
  if (dims) {
    tensorType.shape = {
      dim: dims.map((d) =>
        typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {},
      ),
    };
  }
  return { name, type: { tensorType } };
}

/** Options of a node added with `OnnxGraphBuilder.node`. */
export interface NodeOptions {
  /** Node name (default: a unique name from the op type). */
  readonly name?: string;
  /** Output tensor names, or a count of outputs to name automatically (default 1). */
  readonly outputs?: readonly string[] | number;
  /** Operator domain ('' for standard ONNX). */
  readonly domain?: string;
}

/**
 * Builds or extends an ONNX graph node by node. Used to write toy and benchmark models, to write
 * ONNX copies of models trained elsewhere, and (internally) to append backward nodes.
 *
 * ```ts
 * const b = new OnnxGraphBuilder({ opset: 17 });
 * const x = b.input('input', ['N', 3, 8, 8]);
 * const y = b.node('Conv', [x, b.initializer('w', weights, [4, 3, 3, 3])], { pads: [1, 1, 1, 1] });
 * b.output(b.node('GlobalAveragePool', [y]));
 * const bytes = encodeOnnxModel(b.build());
 * ```
 */
export class OnnxGraphBuilder {
  /** The graph being built (mutable). */
  readonly graph: OnnxGraph;
  private readonly model: OnnxModel;
  private readonly used = new Set<string>();
  /** Names handed out by `unique` and not yet given to a tensor. */
  private readonly reserved = new Set<string>();
  private readonly usedNodes = new Set<string>();
  private counter = 0;

  constructor(options: { opset?: number; name?: string; producerName?: string; model?: OnnxModel } = {}) {
    if (options.model) {
      this.model = options.model;
    } else {
      this.model = {
        irVersion: 8,
        opsetImport: [{ domain: '', version: options.opset ?? 17 }],
        producerName: options.producerName ?? 'xlens',
        graph: {
          name: options.name ?? 'graph',
          node: [],
          initializer: [],
          input: [],
          output: [],
          valueInfo: [],
        },
      };
    }
    this.graph = this.model.graph;
    for (const v of [...this.graph.input, ...this.graph.output, ...this.graph.valueInfo])
      this.used.add(v.name);
    for (const t of this.graph.initializer) if (t.name) this.used.add(t.name);
    for (const n of this.graph.node) {
      for (const y of n.output) this.used.add(y);
      if (n.name) this.usedNodes.add(n.name);
    }
  }

  /** Extend an existing model in place. */
  static extend(model: OnnxModel): OnnxGraphBuilder {
    return new OnnxGraphBuilder({ model });
  }

  /** The default-domain opset version. */
  get opset(): number {
    return this.model.opsetImport.find((o) => !o.domain)?.version ?? 1;
  }

  /** Set the default-domain opset version. */
  setOpset(version: number): void {
    const o = this.model.opsetImport.find((x) => !x.domain);
    if (o) o.version = version;
    else this.model.opsetImport.push({ domain: '', version });
  }

  /** A name not used yet in the graph, derived from `prefix`. */
  unique(prefix: string): string {
    let name = prefix;
    while (this.used.has(name)) name = `${prefix}_${++this.counter}`;
    this.used.add(name);
    this.reserved.add(name);
    return name;
  }

  /** Set a model metadata entry (`metadata_props`). */
  setMetadata(key: string, value: string): void {
    this.model.metadataProps ??= [];
    const list = this.model.metadataProps;
    const found = list.find((e) => e.key === key);
    if (found) found.value = value;
    else list.push({ key, value });
  }

  /** Add a graph input and return its name (`dims` undefined: shape unknown). */
  input(name: string, dims: readonly DimSpec[] | undefined, dataType: number = DataType.FLOAT): string {
    this.claim(name);
    this.graph.input.push(valueInfo(name, dims, dataType));
    return name;
  }

  /** Mark a tensor as a graph output. */
  output(name: string, dims?: readonly DimSpec[], dataType: number = DataType.FLOAT): string {
    this.graph.output.push(valueInfo(name, dims, dataType));
    return name;
  }

  /** Add a float32 initializer and return its name (made unique). */
  initializer(name: string, values: Float32Array | readonly number[], dims: readonly number[]): string {
    const unique = this.unique(name);
    this.reserved.delete(unique);
    this.graph.initializer.push(floatTensor(unique, values, dims));
    return unique;
  }

  /** Add an int64 initializer (shapes, axes, pads) and return its name. */
  int64(name: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    const unique = this.unique(name);
    this.reserved.delete(unique);
    this.graph.initializer.push(int64Tensor(unique, values, dims));
    return unique;
  }

  /** Add any tensor as an initializer (its name is made unique) and return its name. */
  tensor(t: OnnxTensor): string {
    const unique = this.unique(t.name || 'const');
    this.reserved.delete(unique);
    this.graph.initializer.push({ ...t, name: unique });
    return unique;
  }

  /** Add a node and return its first output's name. */
  node(
    opType: string,
    inputs: readonly string[],
    attrs: Record<string, AttributeValue | undefined> = {},
    options: NodeOptions = {},
  ): string {
    return this.nodeOutputs(opType, inputs, attrs, options)[0];
  }

  /** Add a node and return all its output names. */
  nodeOutputs(
    opType: string,
    inputs: readonly string[],
    attrs: Record<string, AttributeValue | undefined> = {},
    options: NodeOptions = {},
  ): string[] {
    const name = this.claimNode(options.name ?? opType);
    const outs = options.outputs;
    const outputs =
      outs === undefined || typeof outs === 'number'
        ? Array.from({ length: outs ?? 1 }, (_, i) =>
            this.unique(i === 0 ? `${name}:out` : `${name}:out${i}`),
          )
        : outs.map((o) => (o === '' ? '' : this.claim(o)));
    const attribute = Object.entries(attrs)
      .filter((e): e is [string, AttributeValue] => e[1] !== undefined)
      .map(([k, v]) => makeAttribute(k, v));
    const node: OnnxNode = { input: [...inputs], output: outputs, name, opType, attribute };
    if (options.domain) node.domain = options.domain;
    this.graph.node.push(node);
    return outputs;
  }

  /** The model (the same object on every call). */
  build(): OnnxModel {
    return this.model;
  }

  private claim(name: string): string {
    if (this.reserved.delete(name)) return name;
    if (this.used.has(name))
      throw new UnsupportedError(
        'invalid-model',
        `tensor name ${JSON.stringify(name)} is already used in the graph`,
      );
    this.used.add(name);
    return name;
  }

  private claimNode(prefix: string): string {
    let name = prefix;
    while (this.usedNodes.has(name)) name = `${prefix}_${++this.counter}`;
    this.usedNodes.add(name);
    return name;
  }
}
