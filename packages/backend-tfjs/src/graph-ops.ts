import * as tf from '@tensorflow/tfjs';
import { attrOf, constantNumbers, constantOf, type GraphNode, splitPort } from './graph-nodes.js';
import { GraphOpLayer } from './graph-op-layer.js';
import { aliasOps, INPUT, type LinearPlan, type PlanContext } from './graph-plan.js';

const pair = (v: readonly number[]): [number, number] => [v[1] ?? 1, v[2] ?? 1];
const fusedActivations: Record<string, string> = {
  relu: 'relu',
  relu6: 'relu6',
  elu: 'elu',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
};
/** GraphDef activation ops and their Keras activation names (fusable into a linear layer). @internal */
export const activationOps: Record<string, string> = {
  Relu: 'relu',
  Relu6: 'relu6',
  Elu: 'elu',
  Sigmoid: 'sigmoid',
  Tanh: 'tanh',
};
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

/**
 * Translate one GraphDef node into Keras layers (`c.add`), fold it into the layer before it
 * (`c.fuse`), make it an alias (`c.alias`), or run it opaquely (`c.opaque`).
 * @internal
 */
export function translateNode(c: PlanContext, key: string, node: GraphNode): void {
  const {
    view,
    shapeOf,
    isFloat,
    depends,
    dataInputs,
    owned,
    add,
    alias,
    opaque,
    simple,
    opLayer,
    absorbs,
    fuse,
    rekey,
  } = c;
  const linear = (key: string, node: GraphNode) => {
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

  const binary = (key: string, node: GraphNode) => {
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

  const reduce = (key: string, node: GraphNode) => {
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

  const translate = (key: string, node: GraphNode) => {
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
        if (w.some((t) => t?.rank !== 1) || format === 'nchw') return opaque(key, node);
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
        if (p?.length !== 8 || p[0] || p[1] || p[6] || p[7] || value !== 0) return opaque(key, node);
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
          alias(key, ins[0]);
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
          rekey(pool, key, node);
          return;
        }
        if (to.length === 1 && from.length === 3)
          return simple(key, node, ins, (name) => tf.layers.flatten({ name }));
        return simple(key, node, ins, (name) => tf.layers.reshape({ name, targetShape: [...to] }));
      }
      default:
        if (aliasOps.has(op) && ins.length === 1) {
          alias(key, ins[0]);
          return;
        }
        return opaque(key, node);
    }
  };

  translate(key, node);
}
