import * as tf from '@tensorflow/tfjs';
import type { LayerInfo, LayerKind } from '@xlens/core';
import { channelsFirstShape } from './graph.js';

/** The parts of tfjs-converter's internal graph this backend reads. @internal */
export interface GNode {
  readonly name: string;
  readonly op: string;
  readonly inputs: readonly GNode[];
}

/** Layer kinds of GraphDef ops. @internal */
export const opKinds: Readonly<Record<string, LayerKind>> = {
  Placeholder: 'input',
  Conv2D: 'conv',
  _FusedConv2D: 'conv',
  DepthwiseConv2dNative: 'conv',
  FusedDepthwiseConv2dNative: 'conv',
  MatMul: 'dense',
  _FusedMatMul: 'dense',
  FusedBatchNorm: 'batchnorm',
  FusedBatchNormV2: 'batchnorm',
  FusedBatchNormV3: 'batchnorm',
  Relu: 'activation',
  Relu6: 'activation',
  Elu: 'activation',
  Sigmoid: 'activation',
  Tanh: 'activation',
  MaxPool: 'pool',
  AvgPool: 'pool',
  Mean: 'global-pool',
  Add: 'add',
  AddV2: 'add',
  AddN: 'add',
  Mul: 'multiply',
  ConcatV2: 'concat',
  Reshape: 'reshape',
  Squeeze: 'reshape',
  ExpandDims: 'reshape',
  Softmax: 'softmax',
  LogSoftmax: 'softmax',
  LeakyRelu: 'activation',
  Max: 'global-pool',
  BiasAdd: 'add',
};

/** Ops that are graph plumbing rather than layers. */
const hidden = new Set(['Const', 'Identity', 'NoOp', 'Shape', 'StridedSlice', 'Pack', 'Placeholder']);

/**
 * The layers of a GraphModel: the nodes `output` depends on, in topological order, without
 * constants and plumbing, with output shapes from one probe pass on a batch of one.
 * @internal
 */
export function graphLayers(
  model: tf.GraphModel,
  nodes: Readonly<Record<string, GNode>>,
  inputName: string,
  output: string,
  inputShape: readonly number[],
): LayerInfo[] {
  const order: GNode[] = [];
  const seen = new Set<string>();
  const visit = (n: GNode): void => {
    if (seen.has(n.name)) return;
    seen.add(n.name);
    for (const i of n.inputs) visit(i);
    if (!hidden.has(n.op)) order.push(n);
  };
  visit(nodes[output]);
  const names = order.map((n) => n.name);
  const shapes = tf.tidy(() => {
    const outs = model.execute(tf.zeros([1, ...inputShape]), names) as tf.Tensor | tf.Tensor[];
    return (Array.isArray(outs) ? outs : [outs]).map((t) => t.shape.slice(1));
  });
  const visible = (n: GNode): string[] =>
    n.inputs.flatMap((i) => (i.op === 'Placeholder' ? [i.name] : hidden.has(i.op) ? visible(i) : [i.name]));
  const input: LayerInfo = {
    name: inputName,
    kind: 'input',
    op: 'Placeholder',
    outputShape: channelsFirstShape(inputShape),
    inputs: [],
  };
  return [
    input,
    ...order.map((n, i) => ({
      name: n.name,
      kind: opKinds[n.op] ?? 'other',
      op: n.op,
      outputShape: channelsFirstShape(shapes[i]),
      inputs: visible(n),
    })),
  ];
}
