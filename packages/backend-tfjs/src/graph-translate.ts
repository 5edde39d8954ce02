import * as tf from '@tensorflow/tfjs';
import { UnsupportedError } from '@xlens/core';
import {
  type GraphNode,
  type GraphView,
  inputDependence,
  type ProbeFacts,
  probeTensors,
  splitPort,
  tensorKey,
} from './graph-nodes.js';
import { GraphOpLayer } from './graph-op-layer.js';
import { translateNode } from './graph-ops.js';
import {
  aliasOps,
  INPUT,
  kerasName,
  layerNames,
  makeLinear,
  type Plan,
  type PlanContext,
} from './graph-plan.js';

/** The GraphDef as a Keras model, and what the backend needs to know about the mapping. @internal */
export interface GraphTranslation {
  /** Builds the Keras model (fresh layers and variables sharing the graph's weight data). */
  readonly build: () => tf.LayersModel;
  /** Graph op of each layer, by layer name. */
  readonly ops: ReadonlyMap<string, string>;
  /** Layers run by the executor, by layer name → `op at node`. */
  readonly opaque: ReadonlyMap<string, string>;
  /** Graph node names (also with `:0`) that name a layer's output → the layer name. */
  readonly aliases: ReadonlyMap<string, string>;
  /** Layer name of the translated output tensor. */
  readonly outputLayer: string;
  /** Tensors the translation created (transposed weights, …); dispose with the model. */
  readonly owned: readonly tf.Tensor[];
  /** The layer name `named` (a node after `top`, such as a removed softmax) would have. */
  readonly namedAs?: string;
}

const firstInputOnly = new Set([
  'Conv2D',
  '_FusedConv2D',
  'DepthwiseConv2dNative',
  'FusedDepthwiseConv2dNative',
  'MatMul',
  '_FusedMatMul',
  'FusedBatchNorm',
  'FusedBatchNormV2',
  'FusedBatchNormV3',
  'Mean',
  'Max',
  'MaxPool',
  'AvgPool',
  'Pad',
  'PadV2',
  'Reshape',
  'Squeeze',
  'ExpandDims',
]);
/**
 * Translate the part of a GraphDef that computes `top` from the model input into a Keras model:
 * convolutions, dense layers, BatchNorm, activations, pooling, sums, concatenations, paddings and
 * reshapes become the Keras layers the LayersModel interpreter already runs with rules; a bias and a
 * following ReLU-family activation fold into their convolution, as Keras fuses them. Any other op
 * becomes an opaque layer run by the GraphModel's executor (ordinary gradients, no rules).
 * @internal
 */
export function translateGraph(view: GraphView, top: string, named?: string): GraphTranslation {
  const depends = inputDependence(view);
  // Every tensor `top` is computed from that depends on the input (shape plumbing included), probed
  // once for shapes and dtypes; then the float tensors the computation flows through.
  const candidates: string[] = [];
  const seen = new Set<string>();
  const collect = (key: string): void => {
    if (seen.has(key)) return;
    seen.add(key);
    const [nodeName] = splitPort(key);
    if (nodeName === view.inputName) return;
    const node = view.nodes[nodeName];
    if (!node) throw new UnsupportedError('invalid-model', `GraphModel tensor ${key} has no node`);
    for (const i of node.inputNames) if (depends(i)) collect(tensorKey(i));
    candidates.push(key);
  };
  collect(top);
  const facts: ProbeFacts = probeTensors(view, candidates);
  const shapeOf = (key: string): readonly number[] =>
    key === INPUT ? view.itemShape : (facts.get(key)?.shape ?? []);
  const isFloat = (key: string) => key === INPUT || facts.get(key)?.dtype === 'float32';

  const owned: tf.Tensor[] = [];
  const aliasOf = new Map<string, string>([[tensorKey(view.inputName), INPUT]]);
  const resolve = (key: string): string => aliasOf.get(key) ?? key;
  const resolveInput = (k: string) => (splitPort(k)[0] === view.inputName ? INPUT : k);
  /** Input tensors a node computes on (not its parameters), as keys before aliasing. */
  const rawDataInputs = (node: GraphNode): string[] => {
    const names = firstInputOnly.has(node.op)
      ? node.inputNames.slice(0, 1)
      : node.op === 'ConcatV2'
        ? node.inputNames.slice(0, -1)
        : node.inputNames;
    return names.map(tensorKey).filter((k) => depends(k) && isFloat(resolveInput(k)));
  };
  const dataInputs = (node: GraphNode): string[] => rawDataInputs(node).map((k) => resolve(k));
  const order: string[] = [];
  const ordered = new Set<string>();
  const walk = (key: string): void => {
    if (ordered.has(key) || splitPort(key)[0] === view.inputName) return;
    ordered.add(key);
    for (const k of rawDataInputs(view.nodes[splitPort(key)[0]])) walk(k);
    order.push(key);
  };
  walk(top);
  // Consumers per tensor, to fuse a bias or activation only into a layer nobody else reads.
  const consumers = new Map<string, number>();
  const plans: Plan[] = [];
  const planOf = new Map<string, Plan>();
  const add = (p: Plan): void => {
    plans.push(p);
    planOf.set(p.key, p);
  };

  const opaque = (key: string, node: GraphNode): void => {
    const ins = dataInputs(node);
    const fedKeys = ins.map((k) => (k === INPUT ? view.inputName : k));
    // Inputs computed from the model input by plumbing (shapes) need the input fed too.
    const needsInput = node.inputNames.some((i) => depends(i) && !ins.includes(resolve(tensorKey(i))));
    const inputs = needsInput && !ins.includes(INPUT) ? [...ins, INPUT] : ins;
    const feedNames = needsInput && !ins.includes(INPUT) ? [...fedKeys, view.inputName] : fedKeys;
    add({
      key,
      node: key,
      op: node.op,
      inputs,
      opaque: true,
      make: (name) =>
        new GraphOpLayer(name, shapeOf(key), (xs) => {
          const feeds: Record<string, tf.Tensor> = {};
          feedNames.forEach((f, i) => {
            feeds[f] = xs[i];
          });
          return view.model.execute(feeds, key) as tf.Tensor;
        }),
    });
  };
  const simple = (key: string, node: GraphNode, inputs: string[], make: (name: string) => tf.layers.Layer) =>
    add({ key, node: node.name, op: node.op, inputs, make });
  const opLayer = (
    key: string,
    node: GraphNode,
    inputs: string[],
    fn: (xs: tf.Tensor[], cs: readonly tf.Tensor[]) => tf.Tensor,
    constants: tf.Tensor[] = [],
  ) => simple(key, node, inputs, (name) => new GraphOpLayer(name, shapeOf(key), fn, constants));

  /**
   * Whether the layer computing `from` may absorb `node`: nobody else reads it, and both sit in one
   * Keras layer's scope (`conv/BiasAdd` → `conv/Relu`; a ReLU layer of its own, as in
   * `conv2/BiasAdd` → `relu2/Relu`, stays a layer).
   */
  const absorbs = (from: string, node: GraphNode): Plan | null => {
    const p = planOf.get(from);
    const scope = (n: string) => n.slice(0, Math.max(n.lastIndexOf('/'), 0));
    const ok = p && consumers.get(from) === 1 && scope(p.node) !== '' && scope(p.node) === scope(node.name);
    return ok ? p : null;
  };

  const rekey = (p: Plan, key: string, node: GraphNode): void => {
    planOf.delete(p.key);
    p.key = key;
    p.node = node.name;
    planOf.set(key, p);
  };

  /** Fold `bias` or `activation` into the linear layer computing `from`. */
  const fuse = (
    from: string,
    key: string,
    node: GraphNode,
    what: { bias?: tf.Tensor; activation?: string },
  ) => {
    const p = absorbs(from, node);
    if (!p?.linear) return false;
    if (what.bias) {
      const channels = shapeOf(from).at(-1);
      if (p.linear.bias || p.linear.activation || what.bias.size !== channels) return false;
      p.linear.bias = what.bias.rank === 1 ? what.bias : tf.keep(what.bias.reshape([what.bias.size]));
      if (p.linear.bias !== what.bias) owned.push(p.linear.bias);
    } else {
      if (p.linear.activation) return false;
      p.linear.activation = what.activation ?? null;
    }
    rekey(p, key, node);
    return true;
  };

  const context: PlanContext = {
    view,
    shapeOf,
    isFloat,
    depends,
    dataInputs,
    owned,
    add,
    alias: (key, target) => aliasOf.set(key, target),
    opaque,
    simple,
    opLayer,
    absorbs,
    fuse,
    rekey,
  };

  // Consumer counts (through aliases), then the layers in topological order.
  for (const key of order) {
    const node = view.nodes[splitPort(key)[0]];
    if (aliasOps.has(node.op) && splitPort(key)[1] === 0) {
      aliasOf.set(key, dataInputs(node)[0]);
      continue;
    }
    for (const k of dataInputs(node)) consumers.set(k, (consumers.get(k) ?? 0) + 1);
  }
  consumers.set(resolve(top), (consumers.get(resolve(top)) ?? 0) + 1);
  for (const key of order) {
    if (aliasOf.has(key)) continue;
    translateNode(context, key, view.nodes[splitPort(key)[0]]);
  }
  const out = resolve(top);
  if (out === INPUT) throw new UnsupportedError('invalid-model', `GraphModel output ${top} is its input`);

  const inputLayer = kerasName(view.inputName);
  const { names, phantom } = layerNames(plans, new Set([inputLayer]), named);
  const ops = new Map<string, string>();
  const opaqueNames = new Map<string, string>();
  const aliases = new Map<string, string>();
  for (const p of plans) {
    const name = names.get(p)!;
    ops.set(name, p.op);
    if (p.opaque) opaqueNames.set(name, `${p.op} at node ${p.node}`);
    for (const alias of [p.node, `${p.node}:0`]) if (alias !== name) aliases.set(alias, name);
  }
  for (const [key, target] of aliasOf) {
    const plan = planOf.get(target);
    if (plan && !aliases.has(key)) aliases.set(key, names.get(plan)!);
  }
  if (view.inputName !== inputLayer) aliases.set(view.inputName, inputLayer);

  const build = (): tf.LayersModel => {
    const input = tf.input({ shape: [...view.itemShape], name: inputLayer });
    const values = new Map<string, tf.SymbolicTensor>([[INPUT, input]]);
    for (const p of plans) {
      const name = names.get(p)!;
      const layer = p.linear ? makeLinear(name, p.linear) : p.make!(name);
      const ins = p.inputs.map((k) => values.get(k)!);
      values.set(p.key, layer.apply(ins.length === 1 ? ins[0] : ins) as tf.SymbolicTensor);
    }
    return tf.model({ inputs: input, outputs: values.get(out)!, name: 'graph-model' });
  };
  return {
    build,
    ops,
    opaque: opaqueNames,
    aliases,
    outputLayer: names.get(planOf.get(out)!)!,
    owned,
    ...(phantom ? { namedAs: phantom } : {}),
  };
}
