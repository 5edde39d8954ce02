import * as tf from '@tensorflow/tfjs';
import { UnsupportedError } from '@xlens/core';
import {
  attrOf,
  constantNumbers,
  constantOf,
  type GraphNode,
  type GraphView,
  inputDependence,
  type ProbeFacts,
  probeTensors,
  splitPort,
  tensorKey,
} from './graph-nodes.js';
import { GraphOpLayer } from './graph-op-layer.js';

/** Key of the model input among tensor keys. */
const INPUT = '\u0000input';

/** A convolution or dense layer being assembled: a bias and an activation may still fuse into it. */
interface LinearPlan {
  readonly kind: 'conv' | 'depthwise' | 'dense';
  readonly kernel: tf.Tensor;
  bias: tf.Tensor | null;
  activation: string | null;
  readonly strides: [number, number];
  readonly dilations: [number, number];
  readonly padding: 'same' | 'valid';
}

/** One Keras layer of the translation. */
interface Plan {
  /** Tensor key the layer computes. */
  key: string;
  /** Graph node whose output the layer's output is (names the layer). */
  node: string;
  /** Graph op shown as the layer's op. */
  readonly op: string;
  /** Tensor keys it reads (`INPUT` for the model input). */
  readonly inputs: readonly string[];
  readonly linear?: LinearPlan;
  /** Run by the GraphModel's executor: no rule semantics, no `derive`. */
  readonly opaque?: boolean;
  make?: (name: string) => tf.layers.Layer;
  /** A mean or max over H, W that kept its axes: a following squeeze makes it global pooling. */
  readonly pool?: 'mean' | 'max';
}

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

const pair = (v: readonly number[]): [number, number] => [v[1] ?? 1, v[2] ?? 1];
const fusedActivations: Record<string, string> = {
  relu: 'relu',
  relu6: 'relu6',
  elu: 'elu',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
};
/** GraphDef activation ops and their Keras activation names (fusable into a linear layer). */
const activationOps: Record<string, string> = {
  Relu: 'relu',
  Relu6: 'relu6',
  Elu: 'elu',
  Sigmoid: 'sigmoid',
  Tanh: 'tanh',
};
const aliasOps = new Set(['Identity', 'StopGradient', 'Snapshot', 'PreventGradient']);
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
const binaryOps: Record<string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor> = {
  Add: tf.add,
  AddV2: tf.add,
  BiasAdd: tf.add,
  Sub: tf.sub,
  Mul: tf.mul,
  RealDiv: tf.div,
  Maximum: tf.maximum,
  Minimum: tf.minimum,
};

/** A valid Keras name for a graph name (tfjs allows `[A-Za-z0-9][-A-Za-z0-9._/]*`). */
function kerasName(name: string): string {
  const s = name.replace(/[^-A-Za-z0-9._/]/g, '_');
  return /^[A-Za-z0-9]/.test(s) ? s : `x${s}`;
}

/**
 * Layer names: the graph scope every node shares (tfjs-converter's `StatefulPartitionedCall/model/`)
 * is dropped and a node is named by the Keras layer scope it sits in, as `block1_conv` for
 * `…/block1_conv/Relu`; so a converted Keras model lists its Keras layer names. The last layer of a
 * scope (the Keras layer's output) takes the scope's name; earlier ones keep their path.
 */
function layerNames(
  plans: readonly Plan[],
  reserved: ReadonlySet<string>,
  phantom?: string,
): { names: Map<Plan, string>; phantom?: string } {
  const nodes = [...plans.map((p) => p.node), ...(phantom ? [phantom] : [])];
  const dirs = nodes.map((n) => n.split('/').slice(0, -1));
  let common = dirs[0] ?? [];
  for (const d of dirs) {
    let i = 0;
    while (i < common.length && i < d.length && common[i] === d[i]) i++;
    common = common.slice(0, i);
  }
  if (dirs.length > 0 && dirs.every((d) => d.length === common.length)) common = common.slice(0, -1);
  const rest = nodes.map((n) => n.split('/').slice(common.length));
  const lastOfScope = new Map<string, number>();
  plans.forEach((_, i) => {
    lastOfScope.set(rest[i][0], i);
  });
  const names = new Map<Plan, string>();
  const used = new Set(reserved);
  plans.forEach((p, i) => {
    const candidates = [lastOfScope.get(rest[i][0]) === i ? rest[i][0] : '', rest[i].join('/'), p.node];
    let name =
      candidates
        .filter((c) => c !== '')
        .map(kerasName)
        .find((c) => !used.has(c)) ?? kerasName(p.node);
    for (let k = 2; used.has(name); k++) name = `${kerasName(p.node)}_${k}`;
    used.add(name);
    names.set(p, name);
  });
  // A removed head is named by its scope, as the Keras layer it was fused into (Dense 'predictions').
  return { names, ...(phantom ? { phantom: kerasName(rest[rest.length - 1][0]) } : {}) };
}

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
    planOf.delete(from);
    p.key = key;
    p.node = node.name;
    planOf.set(key, p);
    return true;
  };

  const linear = (key: string, node: GraphNode): void => {
    const isDense = node.op === 'MatMul' || node.op === '_FusedMatMul';
    const isDepthwise = node.op.includes('Depthwise');
    let kernel = constantOf(view, node.inputNames[1]);
    const fused = attrOf<string[]>(node, 'fusedOps', []);
    const pad = attrOf<string>(node, 'pad', 'valid');
    const format = attrOf<string>(node, 'dataFormat', 'nhwc').toLowerCase();
    const args = node.inputNames.slice(2).map((n) => constantOf(view, n));
    const act = fused[1] ?? '';
    const fusable =
      kernel !== null &&
      args.every((a) => a !== null) &&
      (fused.length === 0 || fused[0] === 'biasadd') &&
      (act === '' || act === 'leakyrelu' || fusedActivations[act] !== undefined) &&
      (isDense
        ? !attrOf(node, 'transposeA', false) && shapeOf(dataInputs(node)[0]).length === 1
        : format === 'nhwc' && (pad === 'same' || pad === 'valid' || pad === 'explicit'));
    if (!fusable || !kernel) return opaque(key, node);
    if (isDense && attrOf(node, 'transposeB', false)) {
      kernel = tf.keep(tf.transpose(kernel));
      owned.push(kernel);
    }
    let input = dataInputs(node)[0];
    let padding = pad as 'same' | 'valid';
    if (pad === 'explicit') {
      const e = attrOf<number[]>(node, 'explicitPaddings', []);
      if (e[0] || e[1] || e[6] || e[7]) return opaque(key, node);
      const padKey = `${key}/explicit_padding`;
      add({
        key: padKey,
        node: padKey,
        op: 'Pad',
        inputs: [input],
        make: (name) =>
          tf.layers.zeroPadding2d({
            name,
            padding: [
              [e[2], e[3]],
              [e[4], e[5]],
            ],
          }),
      });
      input = padKey;
      padding = 'valid';
    }
    const leaky = act === 'leakyrelu';
    const linearKey = leaky ? `${key}/pre_activation` : key;
    const plan: LinearPlan = {
      kind: isDense ? 'dense' : isDepthwise ? 'depthwise' : 'conv',
      kernel,
      bias: fused[0] === 'biasadd' ? args[0] : null,
      activation: leaky ? null : (fusedActivations[act] ?? null),
      strides: pair(attrOf<number[]>(node, 'strides', [1, 1, 1, 1])),
      dilations: pair(attrOf<number[]>(node, 'dilations', [1, 1, 1, 1])),
      padding,
    };
    add({ key: linearKey, node: leaky ? linearKey : node.name, op: node.op, inputs: [input], linear: plan });
    if (leaky) {
      const alpha = attrOf<number>(node, 'leakyreluAlpha', 0.2);
      simple(key, node, [linearKey], (name) => tf.layers.leakyReLU({ name, alpha }));
    }
  };

  const binary = (key: string, node: GraphNode): void => {
    const ins = dataInputs(node);
    const fn = binaryOps[node.op];
    if (ins.length === 1 && node.inputNames.length === 2) {
      const constFirst = depends(node.inputNames[1]);
      const c = constantOf(view, node.inputNames[constFirst ? 0 : 1]);
      if (!c) return opaque(key, node);
      const isBias = node.op === 'BiasAdd' || ((node.op === 'Add' || node.op === 'AddV2') && !constFirst);
      if (isBias && fuse(ins[0], key, node, { bias: c })) return;
      if (node.op === 'BiasAdd' && attrOf<string>(node, 'dataFormat', 'nhwc').toLowerCase() === 'nchw')
        return opaque(key, node);
      return opLayer(key, node, ins, ([x], [k]) => (constFirst ? fn(k, x) : fn(x, k)), [c]);
    }
    if (ins.length !== 2 || node.inputNames.length !== 2 || node.op === 'BiasAdd') return opaque(key, node);
    const sameShape = shapeOf(ins[0]).join() === shapeOf(ins[1]).join();
    if (sameShape && (node.op === 'Add' || node.op === 'AddV2'))
      return simple(key, node, ins, (name) => tf.layers.add({ name }));
    if (sameShape && node.op === 'Mul') return simple(key, node, ins, (name) => tf.layers.multiply({ name }));
    return opLayer(key, node, ins, ([a, b]) => fn(a, b));
  };

  const reduce = (key: string, node: GraphNode): void => {
    const axes = constantNumbers(view, node.inputNames[1]);
    const rank = shapeOf(dataInputs(node)[0]).length + 1;
    const norm = axes?.map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
    if (rank !== 4 || norm?.join() !== '1,2') return opaque(key, node);
    const mean = node.op === 'Mean';
    if (!attrOf(node, 'keepDims', false)) {
      return simple(key, node, dataInputs(node), (name) =>
        mean ? tf.layers.globalAveragePooling2d({ name }) : tf.layers.globalMaxPooling2d({ name }),
      );
    }
    const fn = (xs: tf.Tensor[]) => (mean ? tf.mean(xs[0], [1, 2], true) : tf.max(xs[0], [1, 2], true));
    add({
      key,
      node: node.name,
      op: node.op,
      inputs: dataInputs(node),
      pool: mean ? 'mean' : 'max',
      make: (name) => new GraphOpLayer(name, shapeOf(key), fn),
    });
  };

  const translate = (key: string, node: GraphNode): void => {
    const ins = dataInputs(node);
    const op = node.op;
    if (splitPort(key)[1] !== 0 || !isFloat(key) || ins.some((k) => k !== INPUT && !isFloat(k)))
      return opaque(key, node);
    if (op in activationOps && fuse(ins[0], key, node, { activation: activationOps[op] })) return;
    switch (op) {
      case 'Conv2D':
      case '_FusedConv2D':
      case 'DepthwiseConv2dNative':
      case 'FusedDepthwiseConv2dNative':
      case 'MatMul':
      case '_FusedMatMul':
        return linear(key, node);
      case 'Add':
      case 'AddV2':
      case 'BiasAdd':
      case 'Sub':
      case 'Mul':
      case 'RealDiv':
      case 'Maximum':
      case 'Minimum':
        return binary(key, node);
      case 'AddN':
        if (ins.length !== node.inputNames.length) return opaque(key, node);
        return ins.every((k) => shapeOf(k).join() === shapeOf(key).join())
          ? simple(key, node, ins, (name) => tf.layers.add({ name }))
          : opLayer(key, node, ins, (xs) => tf.addN(xs));
      case 'Relu':
        return simple(key, node, ins, (name) => tf.layers.reLU({ name }));
      case 'Relu6':
        return simple(key, node, ins, (name) => tf.layers.reLU({ name, maxValue: 6 }));
      case 'LeakyRelu':
        return simple(key, node, ins, (name) =>
          tf.layers.leakyReLU({ name, alpha: attrOf<number>(node, 'alpha', 0.2) }),
        );
      case 'Elu':
        return simple(key, node, ins, (name) => tf.layers.elu({ name, alpha: 1 }));
      case 'Sigmoid':
      case 'Tanh':
        return simple(key, node, ins, (name) =>
          tf.layers.activation({ name, activation: op === 'Sigmoid' ? 'sigmoid' : 'tanh' }),
        );
      case 'Softmax':
        return simple(key, node, ins, (name) => tf.layers.softmax({ name, axis: -1 }));
      case 'FusedBatchNorm':
      case 'FusedBatchNormV2':
      case 'FusedBatchNormV3': {
        const w = node.inputNames.slice(1, 5).map((n) => constantOf(view, n));
        const format = attrOf<string>(node, 'dataFormat', 'nhwc').toLowerCase();
        if (w.some((t) => !t || t.rank !== 1) || format === 'nchw') return opaque(key, node);
        const epsilon = attrOf<number>(node, 'epsilon', 1e-3);
        return simple(key, node, ins, (name) =>
          tf.layers.batchNormalization({ name, axis: -1, epsilon, weights: w as tf.Tensor[] }),
        );
      }
      case 'MaxPool':
      case 'AvgPool': {
        const pad = attrOf<string>(node, 'pad', 'valid');
        const format = attrOf<string>(node, 'dataFormat', 'nhwc').toLowerCase();
        if ((pad !== 'same' && pad !== 'valid') || format === 'nchw') return opaque(key, node);
        const args = {
          poolSize: pair(attrOf<number[]>(node, 'kernelSize', [1, 1, 1, 1])),
          strides: pair(attrOf<number[]>(node, 'strides', [1, 1, 1, 1])),
          padding: pad as 'same' | 'valid',
        };
        return simple(key, node, ins, (name) =>
          op === 'MaxPool'
            ? tf.layers.maxPooling2d({ name, ...args })
            : tf.layers.averagePooling2d({ name, ...args }),
        );
      }
      case 'Mean':
      case 'Max':
        return reduce(key, node);
      case 'ConcatV2': {
        const axis = constantNumbers(view, node.inputNames.at(-1)!)?.[0];
        const rank = shapeOf(key).length + 1;
        if (axis === undefined || ins.length !== node.inputNames.length - 1) return opaque(key, node);
        const a = axis < 0 ? axis + rank : axis;
        if (a === 0) return opaque(key, node);
        return simple(key, node, ins, (name) => tf.layers.concatenate({ name, axis: a }));
      }
      case 'Pad':
      case 'PadV2': {
        const p = constantNumbers(view, node.inputNames[1]);
        const value = op === 'PadV2' ? constantNumbers(view, node.inputNames[2])?.[0] : 0;
        if (!p || p.length !== 8 || p[0] || p[1] || p[6] || p[7] || value !== 0) return opaque(key, node);
        return simple(key, node, ins, (name) =>
          tf.layers.zeroPadding2d({
            name,
            padding: [
              [p[2], p[3]],
              [p[4], p[5]],
            ],
          }),
        );
      }
      case 'Reshape':
      case 'Squeeze':
      case 'ExpandDims': {
        const from = shapeOf(ins[0]);
        const to = shapeOf(key);
        if (from.join() === to.join()) {
          aliasOf.set(key, ins[0]);
          return;
        }
        const pool = absorbs(ins[0], node);
        if (pool?.pool && to.length === 1) {
          // Mean (or Max) with kept dims, then a squeeze: one global pooling layer, as in Keras.
          const kind = pool.pool;
          pool.make = (name) =>
            kind === 'mean'
              ? tf.layers.globalAveragePooling2d({ name })
              : tf.layers.globalMaxPooling2d({ name });
          planOf.delete(pool.key);
          pool.key = key;
          pool.node = node.name;
          planOf.set(key, pool);
          return;
        }
        if (to.length === 1 && from.length === 3)
          return simple(key, node, ins, (name) => tf.layers.flatten({ name }));
        return simple(key, node, ins, (name) => tf.layers.reshape({ name, targetShape: [...to] }));
      }
      default:
        if (aliasOps.has(op) && ins.length === 1) {
          aliasOf.set(key, ins[0]);
          return;
        }
        return opaque(key, node);
    }
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
    translate(key, view.nodes[splitPort(key)[0]]);
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

/** The Keras layer of a linear plan, with the graph's weights. */
function makeLinear(name: string, p: LinearPlan): tf.layers.Layer {
  const common = {
    name,
    useBias: p.bias !== null,
    activation: (p.activation ?? 'linear') as 'linear',
    weights: p.bias ? [p.kernel, p.bias] : [p.kernel],
    biasInitializer: 'zeros' as const,
  };
  if (p.kind === 'dense')
    return tf.layers.dense({ ...common, units: p.kernel.shape[1]!, kernelInitializer: 'zeros' });
  const conv = {
    ...common,
    kernelSize: [p.kernel.shape[0], p.kernel.shape[1]] as [number, number],
    strides: p.strides,
    dilationRate: p.dilations,
    padding: p.padding,
  };
  if (p.kind === 'depthwise')
    return tf.layers.depthwiseConv2d({
      ...conv,
      depthMultiplier: p.kernel.shape[3]!,
      depthwiseInitializer: 'zeros',
    });
  return tf.layers.conv2d({ ...conv, filters: p.kernel.shape[3]!, kernelInitializer: 'zeros' });
}
