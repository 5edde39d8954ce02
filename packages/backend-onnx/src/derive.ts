import { InputError, type LayerInfo, type WeightParam, type WeightTransform } from '@xlens/core';
import { attrFloat, attrInt, type GraphInfo } from './graph/graph-info.js';
import { shallowCopy } from './graph/prepare.js';
import { floatTensor, tensorFloat32 } from './proto/tensor-data.js';
import { DataType, type OnnxModel, type OnnxNode } from './proto/types.js';

function transpose2d(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = values[i * cols + j];
  return out;
}

/** The parameters of one node: input index, role, and whether its stored layout is the transpose of the canonical one. */
function paramsOf(
  node: OnnxNode,
  info: GraphInfo,
): Array<{ index: number; role: WeightParam['role']; transposed: boolean }> {
  const linearProducer = (t: string) => ['MatMul', 'Gemm', 'Conv'].includes(info.producerOf(t)?.opType ?? '');
  switch (node.opType) {
    case 'Conv':
    case 'ConvTranspose':
      return [
        { index: 1, role: 'weight', transposed: false },
        { index: 2, role: 'bias', transposed: false },
      ];
    case 'Gemm':
      return [
        { index: 1, role: 'weight', transposed: !attrInt(node, 'transB', 0) },
        { index: 2, role: 'bias', transposed: false },
      ];
    case 'MatMul':
      return [{ index: 1, role: 'weight', transposed: true }];
    case 'BatchNormalization':
      return [
        { index: 1, role: 'weight', transposed: false },
        { index: 2, role: 'bias', transposed: false },
        { index: 3, role: 'other', transposed: false },
        { index: 4, role: 'other', transposed: false },
      ];
    case 'PRelu':
      return [{ index: 1, role: 'weight', transposed: false }];
    case 'Add':
      return node.input.flatMap((x, i) =>
        linearProducer(node.input[1 - i] ?? '') && info.constant(x)
          ? [{ index: i, role: 'bias' as const, transposed: false }]
          : [],
      );
    default:
      return [];
  }
}

/** BatchNorm facts of parameter `index` of a node (ADR 0006): which statistic, and ε. */
function batchNormFacts(node: OnnxNode, index: number): Pick<WeightParam, 'statistic' | 'epsilon'> {
  if (node.opType !== 'BatchNormalization') return {};
  // ONNX stores ε as a float32 attribute (default 1e-5).
  const epsilon = Math.fround(attrFloat(node, 'epsilon', 1e-5));
  return index === 3
    ? { statistic: 'mean', epsilon }
    : index === 4
      ? { statistic: 'variance', epsilon }
      : { epsilon };
}

/** Every parameter of every layer node, in the canonical layout, in node order. */
function walkParams(
  info: GraphInfo,
  layerOf: (tensor: string) => string,
  layers: readonly LayerInfo[],
  visit: (
    param: WeightParam,
    at: { nodeIndex: number; index: number; name: string; dims: readonly number[]; flip: boolean },
  ) => void,
): void {
  info.nodes.forEach((node, nodeIndex) => {
    const layer = layerOf(node.output[0]);
    const layerIndex = layers.findIndex((l) => l.name === layer);
    if (layerIndex < 0) return;
    for (const p of paramsOf(node, info)) {
      const name = node.input[p.index];
      const t = name ? info.constant(name) : undefined;
      if (!t || t.dataType !== DataType.FLOAT) continue;
      const stored = tensorFloat32(t);
      const [rows, cols] = t.dims;
      const flip = p.transposed && t.dims.length === 2;
      const values = flip ? transpose2d(stored, rows, cols) : stored.slice();
      const shape = flip ? [cols, rows] : [...t.dims];
      visit(
        { layer, layerIndex, role: p.role, shape, values, ...batchNormFacts(node, p.index) },
        { nodeIndex, index: p.index, name, dims: t.dims, flip },
      );
    }
  });
}

/**
 * Read-only copies of the parameters of the named layers (all when `names` is absent), exactly as
 * `deriveModel` hands them to a transform: the `weights` capability (ADR 0006).
 */
export function readWeights(
  info: GraphInfo,
  layerOf: (tensor: string) => string,
  layers: readonly LayerInfo[],
  names?: ReadonlySet<string>,
): WeightParam[] {
  const params: WeightParam[] = [];
  walkParams(info, layerOf, layers, (param) => {
    if (!names || names.has(param.layer)) params.push(param);
  });
  return params;
}

/**
 * A copy of the model whose layer parameters went through `transform`, handed over in the
 * canonical layout of `WeightParam` (Conv O×I×kH×kW as stored; Gemm/MatMul weights as out×in,
 * transposed back when the node stores in×out). A parameter is any constant input of a layer's
 * node (`GraphInfo.constant`: an initializer, or one reached through `Identity`, `Reshape`, …),
 * and every layer sees its own, also when several layers share one initializer. A changed value
 * replaces the initializer when only that node reads it; otherwise it becomes a new initializer
 * wired to that node alone, so layers sharing a weight stop sharing it.
 */
export function deriveModel(
  model: OnnxModel,
  info: GraphInfo,
  layerOf: (tensor: string) => string,
  layers: readonly LayerInfo[],
  transform: WeightTransform,
): OnnxModel {
  const next = shallowCopy(model);
  const index = new Map(next.graph.initializer.map((t, i) => [t.name ?? '', i]));
  const used = new Set([
    ...index.keys(),
    ...model.graph.input.map((v) => v.name),
    ...model.graph.node.flatMap((n) => n.output),
  ]);
  const fresh = (base: string) => {
    let name = `${base}/derived`;
    for (let k = 1; used.has(name); k++) name = `${base}/derived_${k}`;
    used.add(name);
    return name;
  };
  walkParams(info, layerOf, layers, (param, { nodeIndex, index: at, name, dims, flip }) => {
    const out = transform(param);
    if (out === undefined) return;
    if (out.length !== param.values.length) {
      throw new InputError(
        'invalid-shape',
        `weight transform returned ${out.length} values for ${param.layer} (${name}); expected ${param.values.length}`,
      );
    }
    const data = flip ? transpose2d(out, dims[1], dims[0]) : out;
    const slot = index.get(name);
    if (slot !== undefined && info.consumers.get(name)?.length === 1) {
      next.graph.initializer[slot] = floatTensor(name, data, dims);
      return;
    }
    const own = fresh(name);
    next.graph.initializer.push(floatTensor(own, data, dims));
    const current = next.graph.node[nodeIndex];
    next.graph.node[nodeIndex] = {
      ...current,
      input: current.input.map((x, i) => (i === at ? own : x)),
    };
  });
  return next;
}
