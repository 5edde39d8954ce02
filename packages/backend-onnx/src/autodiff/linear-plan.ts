import {
  InputError,
  inputOnlyRuleKinds,
  LayerError,
  type LinearRule,
  linearRuleKinds,
  OptionError,
  UnsupportedError,
} from '@xlens/core';
import { attrFloat, attrInt, type GraphInfo } from '../graph/graph-info.js';
import { countOf, tensorFloat32 } from '../proto/tensor-data.js';
import type { OnnxNode } from '../proto/types.js';
import { opGradients } from './registry.js';

/** A host-side float32 array with its dims. */
export interface HostTensor {
  readonly values: Float32Array;
  readonly dims: readonly number[];
}

/** One linear layer (Conv / Gemm / MatMul with constant weights) as the linear rules see it. */
export interface LinearLayer {
  /** Layer name the rule was given under. */
  readonly layer: string;
  readonly nodeIndex: number;
  readonly node: OnnxNode;
  readonly kind: 'conv' | 'conv-transpose' | 'gemm' | 'matmul';
  /** The layer's input tensor. */
  readonly x: string;
  /** Its output `z` (bias included), before any activation. */
  readonly z: string;
  /** Weight in the node's stored layout and the axis of output units in it. */
  readonly weight: HostTensor;
  readonly outAxis: number;
  /** Effective bias per output unit (Conv B, Gemm β·C, or a constant added after MatMul), if any. */
  readonly bias?: Float32Array;
  /** A constant `Add` node after a MatMul/Gemm/Conv carrying the bias, whose backward the rule replaces. */
  readonly biasAddIndex?: number;
}

const linearOpKinds: Record<string, LinearLayer['kind']> = {
  Conv: 'conv',
  ConvTranspose: 'conv-transpose',
  Gemm: 'gemm',
  MatMul: 'matmul',
};

function constantHost(info: GraphInfo, name: string | undefined): HostTensor | undefined {
  if (!name) return undefined;
  const t = info.constant(name);
  return t ? { values: tensorFloat32(t), dims: t.dims } : undefined;
}

/** The bias as one value per output unit (broadcast shapes such as [1, C, 1, 1] or a scalar allowed). */
function perUnit(b: HostTensor, units: number, scale = 1): Float32Array | undefined {
  const n = countOf(b.dims);
  if (n !== 1 && n !== units) return undefined;
  return Float32Array.from({ length: units }, (_, i) => scale * b.values[n === 1 ? 0 : i]);
}

/** A constant operand's values, or why it is not one (a phrase for messages). */
function operand(info: GraphInfo, role: string, name: string): HostTensor | string {
  const t = constantHost(info, name);
  return t ?? `its ${role} input ${name} ${info.whyNotConstant(name)}`;
}

/** The linear layer of one node, or why linear rules cannot treat it as one. */
function describe(
  info: GraphInfo,
  nodeIndex: number,
  layer: string,
  z: string,
  biasAddIndex?: number,
): LinearLayer | string {
  const node = info.nodes[nodeIndex];
  const kind = linearOpKinds[node.opType];
  if (!kind) return `it is a ${node.opType} node, not a Conv, ConvTranspose, Gemm or MatMul`;
  const weight = operand(info, 'weight', node.input[1]);
  if (typeof weight === 'string') return weight;
  if (info.constant(node.input[0])) return `its data input ${node.input[0]} is a constant`;
  if (kind === 'gemm' && attrInt(node, 'transA', 0)) return 'it is a Gemm with transA = 1';
  if (kind === 'matmul' && weight.dims.length !== 2)
    return `its weight has dims [${weight.dims.join(', ')}]; linear rules take 2-D MatMul weights`;
  // Grouped ConvTranspose weights [I, O/g, k…] mix groups along the output axis; not supported.
  if (kind === 'conv-transpose' && attrInt(node, 'group', 1) !== 1) return 'it is a grouped ConvTranspose';
  const outAxis = kind === 'conv' || (kind === 'gemm' && attrInt(node, 'transB', 0)) ? 0 : 1;
  const units = weight.dims[outAxis];
  const notPerUnit = (b: HostTensor, name: string) =>
    `its bias ${name} has dims [${b.dims.join(', ')}], not one value per output unit (${units})`;
  let bias: Float32Array | undefined;
  if (node.input[2]) {
    const own = operand(info, 'bias', node.input[2]);
    if (typeof own === 'string') return own;
    bias = perUnit(own, units, kind === 'gemm' ? attrFloat(node, 'beta', 1) : 1);
    if (!bias) return notPerUnit(own, node.input[2]);
  }
  if (biasAddIndex !== undefined) {
    const add = info.nodes[biasAddIndex];
    const other = add.input[0] === node.output[0] ? add.input[1] : add.input[0];
    const extra = operand(info, 'bias', other);
    if (typeof extra === 'string') return extra;
    const vec = perUnit(extra, units);
    if (!vec) return notPerUnit(extra, other);
    bias = bias ? bias.map((v, i) => v + vec[i]) : vec;
  }
  return { layer, nodeIndex, node, kind, x: node.input[0], z, weight, outAxis, bias, biasAddIndex };
}

/**
 * The linear layer a rule named `name` applies to: the node producing that tensor, looking
 * through a ReLU fused after it (a Keras-style `activation`) and a constant bias `Add`. When
 * there is none, the reason (a phrase for messages) instead.
 */
export function findLinearLayer(info: GraphInfo, name: string): LinearLayer | string {
  let t = name;
  let p = info.producer.get(t);
  if (p === undefined) return `no node produces ${name}`;
  const single = (tensor: string) => (info.consumers.get(tensor)?.length ?? 0) === 1;
  if (info.nodes[p].opType === 'Relu' && single(info.nodes[p].input[0])) {
    t = info.nodes[p].input[0];
    p = info.producer.get(t);
    if (p === undefined) return `it is a Relu of ${t}, which no node produces`;
  }
  const direct = describe(info, p, name, t);
  const node = info.nodes[p];
  if (typeof direct !== 'string' || linearOpKinds[node.opType]) return direct;
  if (node.opType === 'Add') {
    let reason: string | undefined;
    for (const operand of node.input) {
      const q = info.producer.get(operand);
      if (
        q === undefined ||
        !single(operand) ||
        !linearOpKinds[info.nodes[q].opType] ||
        info.nodes[q].input[2]
      )
        continue;
      const found = describe(info, q, name, t, p);
      if (typeof found !== 'string') return found;
      reason ??= found;
    }
    if (reason) return reason;
  }
  return 'it is not the output of a Conv, ConvTranspose, Gemm or MatMul node (nor of a bias Add or a ReLU after one)';
}

/** Names of the layers linear rules can apply to (for messages): exactly those `findLinearLayer` accepts. */
export function linearLayerNames(info: GraphInfo): string[] {
  return info.nodes
    .filter((n) => linearOpKinds[n.opType] && typeof findLinearLayer(info, n.output[0]) !== 'string')
    .map((n) => n.output[0]);
}

/**
 * The forward layout-only nodes (reshape, transpose, …) leading from the model input to `x`, or
 * undefined when `x` is not fed by the input through such nodes only.
 */
export function inputChain(info: GraphInfo, inputName: string, x: string): OnnxNode[] | undefined {
  const chain: OnnxNode[] = [];
  let t = x;
  while (t !== inputName) {
    const p = info.producerOf(t);
    if (!p || !opGradients[p.opType]?.layout) return undefined;
    chain.unshift(p);
    t = p.input[0];
  }
  return chain;
}

function check(layer: string, rule: string, key: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new OptionError(
      'invalid-option',
      `rule ${rule} on layer ${layer}: ${key} = ${JSON.stringify(v)} is invalid; expected a finite number ≥ 0`,
    );
  }
}

/** Validate one linear rule on a named layer and find the layer; throws the errors of the contract. */
export function resolveLinearRule(
  info: GraphInfo,
  inputName: string,
  name: string,
  rule: LinearRule,
): LinearLayer {
  if (!info.producer.has(name)) {
    throw new LayerError(
      'unknown-layer',
      `linear rule for layer ${JSON.stringify(name)}, which the model does not have; its linear layers: ${linearLayerNames(info).join(', ')}`,
    );
  }
  const layer = findLinearLayer(info, name);
  if (typeof layer === 'string') {
    const op = info.producerOf(name)?.opType;
    const others = linearLayerNames(info);
    throw new UnsupportedError(
      'unsupported-rule',
      `linear rule on layer ${name}, a ${op} node, cannot apply: ${layer}. Linear rules apply to Conv, ConvTranspose, Gemm and MatMul layers with constant weights; ${others.length > 0 ? `this model's: ${others.join(', ')}` : 'this model has none'}`,
    );
  }
  const kind = rule?.kind;
  if (!linearRuleKinds.includes(kind)) {
    throw new UnsupportedError(
      'unsupported-rule',
      `linear rule ${JSON.stringify(kind)} on layer ${name} is not one of ${linearRuleKinds.join(', ')}`,
    );
  }
  if (inputOnlyRuleKinds.has(kind) && !inputChain(info, inputName, layer.x)) {
    throw new UnsupportedError(
      'unsupported-rule',
      `rule ${kind} on layer ${name}: ${kind} is only allowed on a layer fed directly by the model input, and ${name} is not`,
    );
  }
  if (rule.kind === 'epsilon') check(name, kind, 'epsilon', rule.epsilon);
  if (rule.kind === 'gamma' || rule.kind === 'gamma-classic') {
    check(name, kind, 'gamma', rule.gamma);
    if (rule.epsilon !== undefined) check(name, kind, 'epsilon', rule.epsilon);
  }
  if (rule.kind === 'alpha-beta') {
    check(name, kind, 'alpha', rule.alpha);
    check(name, kind, 'beta', rule.beta);
    if (Math.abs(rule.alpha - rule.beta - 1) > 1e-9) {
      throw new OptionError(
        'invalid-option',
        `rule alpha-beta on layer ${name}: alpha = ${rule.alpha}, beta = ${rule.beta}; expected alpha − beta = 1`,
      );
    }
  }
  if (rule.kind === 'pattern') {
    const want = layer.weight.values.length;
    if (rule.weight?.data?.length !== want) {
      throw new InputError(
        'invalid-shape',
        `pattern weight for layer ${name} has ${rule.weight?.data?.length} values; expected ${want} (canonical layout)`,
      );
    }
  }
  return layer;
}

/**
 * The layer with a following inference BatchNormalization folded in (W·γ/√(σ²+ε) per output unit,
 * (b−μ)·γ/√(σ²+ε)+β), or undefined when `z` does not feed exactly one such BatchNormalization
 * with constant parameters.
 */
export function foldFollowingBatchNorm(
  info: GraphInfo,
  layer: LinearLayer,
): { layer: LinearLayer; bnIndex: number } | undefined {
  const consumers = info.consumers.get(layer.z) ?? [];
  if (consumers.length !== 1) return undefined;
  const bnIndex = consumers[0];
  const bn = info.nodes[bnIndex];
  if (
    bn.opType !== 'BatchNormalization' ||
    bn.input[0] !== layer.z ||
    bn.output.filter((o) => o).length !== 1
  )
    return undefined;
  const [scale, beta, mean, variance] = [1, 2, 3, 4].map((i) => constantHost(info, bn.input[i]));
  if (!scale || !beta || !mean || !variance) return undefined;
  const eps = attrFloat(bn, 'epsilon', 1e-5);
  const units = layer.weight.dims[layer.outAxis];
  if (scale.values.length !== units) return undefined;
  const factor = Float64Array.from(scale.values, (s, c) =>
    Math.fround(s / Math.sqrt(variance.values[c] + eps)),
  );
  const dims = layer.weight.dims;
  const inner = countOf(dims.slice(layer.outAxis + 1));
  const weight = layer.weight.values.map((v, i) => v * factor[Math.floor(i / inner) % units]);
  const bias = Float32Array.from(
    { length: units },
    (_, c) => ((layer.bias?.[c] ?? 0) - mean.values[c]) * factor[c] + beta.values[c],
  );
  return { layer: { ...layer, z: bn.output[0], weight: { values: weight, dims }, bias }, bnIndex };
}
