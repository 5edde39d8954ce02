import * as tf from '@tensorflow/tfjs';
import { UnsupportedError } from '@xlens/core';
import { buildProgram, type Step } from '../graph.js';
import {
  type Attr,
  activationOf,
  b64,
  float,
  ints,
  type KerasLike,
  type NodeDef,
  pair,
  shapeAttr,
  strs,
} from './graph-def.js';

/** Options of `graphModelTwin`. */
export interface GraphTwinOptions {
  /**
   * Emit tfjs-converter's fused ops — `_FusedConv2D`, `FusedDepthwiseConv2dNative`,
   * `_FusedMatMul` with their bias and activation — as its grappler pass does (default true).
   * Otherwise `Conv2D`/`DepthwiseConv2dNative`/`MatMul` (with `transpose_b`), `BiasAdd` and
   * activation nodes, and global pooling as `Mean` with `keep_dims` followed by `Squeeze`.
   */
  readonly fuse?: boolean;
  /**
   * Fold each BatchNormalization into the convolution before it, naming the fused node after
   * the BatchNorm (or after the ReLU it feeds), as converted TF2 models have it (default false:
   * `FusedBatchNormV3` nodes).
   */
  readonly foldBatchNorm?: boolean;
  /** Scope of every node name (default `StatefulPartitionedCall/<model name>/`, as TF2 exports). */
  readonly scope?: string;
}

/**
 * The GraphModel twin of a LayersModel: the same function as a TensorFlow GraphDef in tfjs's
 * `graph-model` format, with node names, fused ops and a signature (`Identity:0` outputs, in
 * `userDefinedMetadata`) as tfjs-converter writes them for a TF2 SavedModel. The converter needs
 * Python and TensorFlow; this writes the same graphs from JavaScript, so a converted model and its
 * Keras original can be compared exactly. Handles Conv2D, DepthwiseConv2D, Dense, BatchNorm,
 * ReLU/ReLU6, LeakyReLU, ELU, activations, pooling, global pooling, Flatten, Reshape, Add,
 * Multiply, Concatenate, ZeroPadding2D and Dropout (single input, channels-last).
 */
export async function graphModelTwin(
  model: tf.LayersModel,
  options: GraphTwinOptions = {},
): Promise<tf.io.ModelArtifacts> {
  const fuse = options.fuse !== false;
  const scope = options.scope ?? `StatefulPartitionedCall/${model.name}/`;
  const program = buildProgram(model);
  const nodes: NodeDef[] = [];
  const specs: tf.io.WeightsManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  const constant = async (
    name: string,
    t: tf.Tensor,
    dtype: 'float32' | 'int32' = 'float32',
  ): Promise<string> => {
    const data = dtype === 'int32' ? Int32Array.from(await t.data()) : Float32Array.from(await t.data());
    parts.push(new Uint8Array(data.buffer));
    specs.push({ name, shape: [...t.shape], dtype });
    nodes.push({
      name,
      op: 'Const',
      attr: {
        dtype: { type: dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' },
        value: {
          tensor: { dtype: dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT', tensorShape: shapeAttr(t.shape) },
        },
      },
    });
    return name;
  };
  const intConst = async (name: string, values: number[], dims: number[]): Promise<string> => {
    const t = tf.tensor(values, dims, 'int32');
    try {
      return await constant(name, t, 'int32');
    } finally {
      t.dispose();
    }
  };
  const emit = (n: NodeDef): string => {
    nodes.push({ ...n, attr: { T: float, ...(n.attr ?? {}) } });
    return n.name;
  };
  const inputName = program.inputName;
  nodes.push({
    name: inputName,
    op: 'Placeholder',
    attr: { dtype: float, shape: { shape: shapeAttr([-1, ...program.inputItemShape]) } },
  });
  const valueName = new Map<number, string>([[program.inputSlot, inputName]]);
  const consumers = (s: Step) => program.consumers.get(s.outputs[0]) ?? [];
  // BatchNorms folded into their convolution (foldBatchNorm), and the ReLUs fused after them.
  const folded = new Map<Step, Step>();
  const fusedAct = new Map<Step, Step>();
  if (options.foldBatchNorm) {
    for (const s of program.steps) {
      const next = consumers(s);
      const isConv = s.className === 'Conv2D' || s.className === 'DepthwiseConv2D';
      if (!isConv || activationOf(s) || next.length !== 1 || next[0].className !== 'BatchNormalization')
        continue;
      folded.set(next[0], s);
      const after = consumers(next[0]);
      const relu = after.length === 1 && after[0].className === 'ReLU' ? after[0] : null;
      if (fuse && relu && [null, 6].includes((relu.layer as KerasLike).maxValue ?? null))
        fusedAct.set(relu, next[0]);
    }
  }
  const foldedConvs = new Set(folded.values());
  const fusedBns = new Set(fusedAct.values());

  /** A convolution or dense layer (with its bias, activation, and folded BatchNorm). */
  const linear = async (s: Step, named: Step, bn: Step | null, act: string | null): Promise<string> => {
    const [w0, b0] = s.layer.weights.map((v) => v.read());
    const isDense = s.className === 'Dense';
    const isDepthwise = s.className === 'DepthwiseConv2D';
    const made: tf.Tensor[] = [];
    let kernel = w0;
    let bias: tf.Tensor | null = b0 ?? null;
    if (bn) {
      const [gamma, beta, mean, variance] = bn.layer.weights.map((v) => v.read());
      const eps = (bn.layer as KerasLike).epsilon ?? 1e-3;
      [kernel, bias] = tf.tidy(() => {
        const scale = tf.div(gamma, tf.sqrt(tf.add(variance, eps)));
        const ws = isDepthwise ? scale.reshape([w0.shape[2]!, w0.shape[3]!]) : scale;
        return [tf.mul(w0, ws), tf.add(tf.mul(tf.sub(b0 ?? tf.zerosLike(mean), mean), scale), beta)];
      });
      made.push(kernel, bias);
    }
    try {
      return await linearNodes(s, named, kernel, bias, bn !== null, act, isDense, isDepthwise, made);
    } finally {
      for (const t of made) t.dispose();
    }
  };

  const linearNodes = async (
    s: Step,
    named: Step,
    kernel: tf.Tensor,
    bias: tf.Tensor | null,
    foldedBn: boolean,
    act: string | null,
    isDense: boolean,
    isDepthwise: boolean,
    made: tf.Tensor[],
  ): Promise<string> => {
    const layer = s.layer as KerasLike;
    const base = `${scope}${named.name}/`;
    const kName = await constant(`${base}${s.className === 'Dense' ? 'MatMul' : 'Conv2D'}_weights`, kernel);
    const bName = bias ? await constant(`${base}bias`, bias) : null;
    const x = valueName.get(s.inputs[0])!;
    const geometry: Attr = isDense
      ? { transpose_a: { b: false }, transpose_b: { b: false } }
      : {
          strides: ints([1, ...pair(layer.strides), 1]),
          padding: { s: b64(String(layer.padding).toUpperCase()) },
          data_format: { s: b64('NHWC') },
          dilations: ints([1, ...pair(layer.dilationRate), 1]),
          explicit_paddings: ints([]),
        };
    if (fuse && bName) {
      const op = isDense ? '_FusedMatMul' : isDepthwise ? 'FusedDepthwiseConv2dNative' : '_FusedConv2D';
      const inner = act === 'Softmax' ? null : act;
      const fused = emit({
        name: `${base}${inner ?? (foldedBn ? 'FusedBatchNormV3' : 'BiasAdd')}`,
        op,
        input: [x, kName, bName],
        attr: {
          ...geometry,
          fused_ops: strs(['BiasAdd', ...(inner ? [inner] : [])]),
          num_args: { i: '1' },
          epsilon: { f: 0 },
        },
      });
      return act === 'Softmax' ? emit({ name: `${base}Softmax`, op: 'Softmax', input: [fused] }) : fused;
    }
    let out: string;
    if (isDense) {
      // The unfused form stores the dense kernel transposed, to cover `transpose_b`.
      const t = tf.transpose(kernel);
      made.push(t);
      const kt = await constant(`${base}MatMul/ReadVariableOp_t`, t);
      out = emit({
        name: `${base}MatMul`,
        op: 'MatMul',
        input: [x, kt],
        attr: { transpose_a: { b: false }, transpose_b: { b: true } },
      });
    } else {
      out = emit({
        name: `${base}${isDepthwise ? 'depthwise' : 'Conv2D'}`,
        op: isDepthwise ? 'DepthwiseConv2dNative' : 'Conv2D',
        input: [x, kName],
        attr: geometry,
      });
    }
    if (bName)
      out = emit({
        name: `${base}BiasAdd`,
        op: 'BiasAdd',
        input: [out, bName],
        attr: { data_format: { s: b64('NHWC') } },
      });
    if (act) out = emit({ name: `${base}${act}`, op: act, input: [out] });
    return out;
  };

  for (const s of program.steps) {
    if (s.alias) continue;
    const layer = s.layer as KerasLike;
    const base = `${scope}${s.name}/`;
    const ins = s.inputs.map((i) => valueName.get(i)!);
    let out: string;
    switch (s.className) {
      case 'Conv2D':
      case 'DepthwiseConv2D':
      case 'Dense':
        if (foldedConvs.has(s)) continue;
        out = await linear(s, s, null, activationOf(s));
        break;
      case 'BatchNormalization': {
        const conv = folded.get(s);
        if (conv) {
          if (fusedBns.has(s)) continue;
          out = await linear(conv, s, s, null);
          break;
        }
        const w = s.layer.weights.map((v) => v.read());
        const names = await Promise.all(
          ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((n, i) => constant(`${base}${n}`, w[i])),
        );
        out = emit({
          name: `${base}FusedBatchNormV3`,
          op: 'FusedBatchNormV3',
          input: [ins[0], ...names],
          attr: {
            epsilon: { f: layer.epsilon ?? 1e-3 },
            data_format: { s: b64('NHWC') },
            is_training: { b: false },
            U: float,
          },
        });
        break;
      }
      case 'ReLU': {
        const max = layer.maxValue ?? null;
        if (max !== null && max !== 6)
          throw new UnsupportedError('unsupported', `graphModelTwin: ReLU max ${max}`);
        const bn = fusedAct.get(s);
        if (bn) {
          out = await linear(folded.get(bn)!, s, bn, max === 6 ? 'Relu6' : 'Relu');
          break;
        }
        out = emit({
          name: `${base}${max === 6 ? 'Relu6' : 'Relu'}`,
          op: max === 6 ? 'Relu6' : 'Relu',
          input: ins,
        });
        break;
      }
      case 'LeakyReLU':
        out = emit({
          name: `${base}LeakyRelu`,
          op: 'LeakyRelu',
          input: ins,
          attr: { alpha: { f: layer.alpha ?? 0.3 } },
        });
        break;
      case 'ELU':
        out = emit({ name: `${base}Elu`, op: 'Elu', input: ins });
        break;
      case 'Activation': {
        const op = activationOf(s);
        out = op ? emit({ name: `${base}${op}`, op, input: ins }) : ins[0];
        break;
      }
      case 'Softmax':
        out = emit({ name: `${base}Softmax`, op: 'Softmax', input: ins });
        break;
      case 'MaxPooling2D':
      case 'AveragePooling2D':
        out = emit({
          name: `${base}${s.className === 'MaxPooling2D' ? 'MaxPool' : 'AvgPool'}`,
          op: s.className === 'MaxPooling2D' ? 'MaxPool' : 'AvgPool',
          input: ins,
          attr: {
            ksize: ints([1, ...pair(layer.poolSize), 1]),
            strides: ints([1, ...pair(layer.strides), 1]),
            padding: { s: b64(String(layer.padding).toUpperCase()) },
            data_format: { s: b64('NHWC') },
          },
        });
        break;
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D': {
        const op = s.className === 'GlobalAveragePooling2D' ? 'Mean' : 'Max';
        const axes = await intConst(`${base}${op}/reduction_indices`, [1, 2], [2]);
        out = emit({
          name: `${base}${op}`,
          op,
          input: [ins[0], axes],
          attr: { Tidx: { type: 'DT_INT32' }, keep_dims: { b: !fuse } },
        });
        if (!fuse)
          out = emit({
            name: `${base}Squeeze`,
            op: 'Squeeze',
            input: [out],
            attr: { squeeze_dims: ints([1, 2]) },
          });
        break;
      }
      case 'Flatten':
      case 'Reshape': {
        const target = s.className === 'Flatten' ? [s.itemShape.reduce((a, b) => a * b, 1)] : s.itemShape;
        const shape = await intConst(`${base}Const`, [-1, ...target], [target.length + 1]);
        out = emit({
          name: `${base}Reshape`,
          op: 'Reshape',
          input: [ins[0], shape],
          attr: { Tshape: { type: 'DT_INT32' } },
        });
        break;
      }
      case 'Add':
        out = emit({
          name: `${base}${ins.length === 2 ? 'add' : 'AddN'}`,
          op: ins.length === 2 ? 'AddV2' : 'AddN',
          input: ins,
          attr: { N: { i: String(ins.length) } },
        });
        break;
      case 'Multiply':
        if (ins.length !== 2)
          throw new UnsupportedError('unsupported', `graphModelTwin: Multiply of ${ins.length}`);
        out = emit({ name: `${base}mul`, op: 'Mul', input: ins });
        break;
      case 'Concatenate': {
        const axis = await intConst(`${base}concat/axis`, [Number(layer.axis ?? -1)], []);
        out = emit({
          name: `${base}concat`,
          op: 'ConcatV2',
          input: [...ins, axis],
          attr: { N: { i: String(ins.length) }, Tidx: { type: 'DT_INT32' } },
        });
        break;
      }
      case 'ZeroPadding2D': {
        const [[t, b], [l, r]] = layer.padding as number[][];
        const pads = await intConst(`${base}Pad/paddings`, [0, 0, t, b, l, r, 0, 0], [4, 2]);
        out = emit({
          name: `${base}Pad`,
          op: 'Pad',
          input: [ins[0], pads],
          attr: { Tpaddings: { type: 'DT_INT32' } },
        });
        break;
      }
      case 'Dropout':
      case 'SpatialDropout1D':
      case 'GaussianNoise':
      case 'GaussianDropout':
      case 'AlphaDropout':
        out = ins[0];
        break;
      default:
        throw new UnsupportedError('unsupported', `graphModelTwin: layer ${s.name} (${s.className})`);
    }
    valueName.set(s.outputs[0], out);
  }
  const last = valueName.get(program.outputSlot)!;
  nodes.push({ name: 'Identity', op: 'Identity', input: [last], attr: { T: float } });
  const total = parts.reduce((a, p) => a + p.byteLength, 0);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    weightData.set(p, offset);
    offset += p.byteLength;
  }
  const outputName = program.producer.get(program.outputSlot)?.name ?? 'output_0';
  const tensorInfo = (name: string, dims: number[]) => ({
    name,
    dtype: 'DT_FLOAT',
    tensorShape: shapeAttr(dims),
  });
  return {
    format: 'graph-model',
    generatedBy: 'xlens graphModelTwin',
    convertedBy: 'xlens graphModelTwin',
    modelTopology: { node: nodes, library: {}, versions: { producer: 1 } },
    weightSpecs: specs,
    weightData: weightData.buffer,
    userDefinedMetadata: {
      signature: {
        inputs: { [inputName]: tensorInfo(`${inputName}:0`, [-1, ...program.inputItemShape]) },
        outputs: {
          [outputName]: tensorInfo('Identity:0', [-1, ...(model.outputs[0].shape.slice(1) as number[])]),
        },
      },
    },
  };
}
