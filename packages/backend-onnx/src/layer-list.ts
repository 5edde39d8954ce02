import type { LayerInfo, LayerKind } from '@xlens/core';
import { attrInts, type GraphInfo, isFloatType } from './graph/graph-info.js';
import type { OnnxNode } from './proto/types.js';

const kinds: Record<string, LayerKind> = {
  Conv: 'conv',
  ConvTranspose: 'conv',
  Gemm: 'dense',
  MatMul: 'dense',
  BatchNormalization: 'batchnorm',
  InstanceNormalization: 'batchnorm',
  LayerNormalization: 'batchnorm',
  Relu: 'activation',
  LeakyRelu: 'activation',
  PRelu: 'activation',
  Clip: 'activation',
  Sigmoid: 'activation',
  Tanh: 'activation',
  HardSigmoid: 'activation',
  HardSwish: 'activation',
  Elu: 'activation',
  Selu: 'activation',
  Softplus: 'activation',
  Gelu: 'activation',
  MaxPool: 'pool',
  AveragePool: 'pool',
  LpPool: 'pool',
  GlobalAveragePool: 'global-pool',
  GlobalMaxPool: 'global-pool',
  Add: 'add',
  Sum: 'add',
  Mul: 'multiply',
  Concat: 'concat',
  Reshape: 'reshape',
  Flatten: 'reshape',
  Squeeze: 'reshape',
  Unsqueeze: 'reshape',
  Transpose: 'reshape',
  Dropout: 'dropout',
  Softmax: 'softmax',
  LogSoftmax: 'softmax',
};

const weighted = new Set([
  'Conv',
  'ConvTranspose',
  'Gemm',
  'MatMul',
  'BatchNormalization',
  'InstanceNormalization',
  'PRelu',
]);

/** Dims of one item of a tensor: the probe's batch-1 dims without the batch axis. */
export function itemShape(info: GraphInfo, name: string): number[] | undefined {
  const f = info.facts.get(name);
  if (!f) return undefined;
  return f.shape1.length > 0 && f.shape1[0] === 1 ? f.shape1.slice(1) : [...f.shape1];
}

const fusedActivations: Record<string, string> = { Relu: 'relu', Sigmoid: 'sigmoid', Tanh: 'tanh' };
const linearOps = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

/** The layers and the tensors folded into them. */
export interface LayerList {
  readonly layers: LayerInfo[];
  /** Hidden tensors (a linear op's output before its bias Add or activation) → the layer they belong to. */
  readonly aliases: ReadonlyMap<string, string>;
}

function reduceKind(info: GraphInfo, node: OnnxNode): LayerKind {
  const rank = info.rank(node.input[0]) ?? 0;
  const axes = attrInts(node, 'axes') ?? info.constantValues(node.input[1] ?? '');
  const norm = axes?.map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
  return norm && rank > 2 && norm.length === rank - 2 && norm.every((a, i) => a === i + 2)
    ? 'global-pool'
    : 'other';
}

/**
 * Model metadata key (`metadata_props`) naming fused layers: a JSON object mapping each hidden
 * tensor (a Conv/Gemm/MatMul output, a bias `Add` output) to the tensor that names the whole
 * layer (usually its activation's output). Writers of ONNX copies of Keras-style models set it so
 * that `layers()` matches the original layer list.
 */
export const fusedLayersKey = 'xlens.fused_layers';

/** The fused-layer hints of a model's metadata (empty when absent or malformed). */
export function fusedLayerHints(
  metadata: readonly { key: string; value: string }[] | undefined,
): Map<string, string> {
  const entry = metadata?.find((e) => e.key === fusedLayersKey);
  if (!entry) return new Map();
  try {
    const parsed = JSON.parse(entry.value) as Record<string, unknown>;
    return new Map(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch {
    return new Map();
  }
}

/**
 * The model's layers: the input first, then every float tensor produced by a node that depends on
 * the input, in topological order, named by the tensor (node outputs are what captures and
 * gradients address in ONNX). Shapes are per item, as ONNX stores them (channels-first for convs).
 *
 * Tensors the model's `fusedLayersKey` metadata marks as hidden are folded into their layer, which
 * then takes the linear op's kind and reports its activation (as a Keras layer with a fused
 * activation would); the hidden tensors stay addressable by name for captures and gradients.
 */
export function listLayers(
  info: GraphInfo,
  inputName: string,
  inputItemShape: readonly number[],
  hints: ReadonlyMap<string, string> = new Map(),
): LayerList {
  const aliases = new Map<string, string>();
  const fused = new Map<string, { node: OnnxNode; activation?: string; biasAdd: boolean }>();
  for (const [hidden, layer] of hints) {
    const node = info.producerOf(hidden);
    const last = info.producerOf(layer);
    if (!node || !last || !info.facts.has(layer)) continue;
    aliases.set(hidden, layer);
    if (!linearOps.has(node.opType)) continue;
    const prior = fused.get(layer);
    fused.set(layer, {
      node,
      activation: fusedActivations[last.opType] ?? prior?.activation,
      biasAdd: prior?.biasAdd || (last.opType === 'Add' && last.input.some((x) => !!info.constant(x))),
    });
  }
  const layers: LayerInfo[] = [
    { name: inputName, kind: 'input', op: 'Input', outputShape: [...inputItemShape], inputs: [] },
  ];
  const depends = new Set([inputName]);
  const layerOf = (x: string) => aliases.get(x) ?? x;
  for (const node of info.nodes) {
    if (!node.input.some((x) => depends.has(x))) continue;
    for (const y of node.output) {
      if (!y || !isFloatType(info.dtype(y))) continue;
      depends.add(y);
      const shape = itemShape(info, y);
      if (!shape || aliases.has(y)) continue;
      const f = fused.get(y);
      const op = f?.node ?? node;
      const constIn = op.input.slice(1).filter((x) => x && info.constant(x));
      layers.push({
        name: y,
        kind: op.opType.startsWith('Reduce') ? reduceKind(info, op) : (kinds[op.opType] ?? 'other'),
        op: op.opType,
        outputShape: shape,
        inputs: [...new Set(op.input.filter((x) => depends.has(x)).map(layerOf))],
        ...(f
          ? { activation: f.activation ?? 'linear' }
          : linearOps.has(op.opType)
            ? { activation: 'linear' }
            : {}),
        ...(weighted.has(op.opType)
          ? {
              hasWeights: constIn.length > 0,
              hasBias: op.opType === 'BatchNormalization' || !!op.input[2] || !!f?.biasAdd,
            }
          : {}),
      });
    }
  }
  return { layers, aliases };
}
