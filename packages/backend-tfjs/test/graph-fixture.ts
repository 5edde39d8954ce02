import * as tf from '@tensorflow/tfjs';

/**
 * A tiny TensorFlow GraphDef in tfjs's `graph-model` format, written by hand (the converter needs
 * Python and TensorFlow, which are not available offline): input NHWC 6×6×2 → Conv2D 3×3×2→3 SAME
 * → BiasAdd → Relu → MaxPool 2×2 → Mean over H, W → MatMul 3→4 → BiasAdd → Identity `logits`.
 * Returns the GraphModel and the weights so a LayersModel twin can be built for comparison.
 */
export interface GraphFixture {
  readonly model: tf.GraphModel;
  readonly conv: Float32Array; // 3×3×2×3 HWIO
  readonly convBias: Float32Array;
  readonly dense: Float32Array; // 3×4
  readonly denseBias: Float32Array;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const ints = (xs: number[]) => ({ list: { i: xs.map(String) } });
const float = { type: 'DT_FLOAT' };
const shape = (dims: number[]) => ({ dim: dims.map((d) => ({ size: String(d) })) });
const constNode = (name: string, dims: number[]) => ({
  name,
  op: 'Const',
  attr: { dtype: float, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: shape(dims) } } },
});

function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = (s / 2147483648) * 2 - 1;
  }
  return out;
}

/** The fixture's weights and `graph-model` artifacts (topology, weight specs, weight bytes). */
export function graphArtifacts(): Omit<GraphFixture, 'model'> & { artifacts: tf.io.ModelArtifacts } {
  const conv = values(3 * 3 * 2 * 3, 1);
  const convBias = values(3, 2).map((v) => v * 0.1);
  const dense = values(3 * 4, 3);
  const denseBias = values(4, 4);
  const nodes = [
    { name: 'image', op: 'Placeholder', attr: { dtype: float, shape: { shape: shape([-1, 6, 6, 2]) } } },
    constNode('conv/kernel', [3, 3, 2, 3]),
    constNode('conv/bias', [3]),
    constNode('fc/kernel', [3, 4]),
    constNode('fc/bias', [4]),
    constNode('mean/axes', [2]),
    {
      name: 'conv/Conv2D',
      op: 'Conv2D',
      input: ['image', 'conv/kernel'],
      attr: {
        T: float,
        strides: ints([1, 1, 1, 1]),
        padding: { s: b64('SAME') },
        data_format: { s: b64('NHWC') },
        dilations: ints([1, 1, 1, 1]),
      },
    },
    {
      name: 'conv/BiasAdd',
      op: 'BiasAdd',
      input: ['conv/Conv2D', 'conv/bias'],
      attr: { T: float, data_format: { s: b64('NHWC') } },
    },
    { name: 'conv/Relu', op: 'Relu', input: ['conv/BiasAdd'], attr: { T: float } },
    {
      name: 'pool',
      op: 'MaxPool',
      input: ['conv/Relu'],
      attr: {
        T: float,
        ksize: ints([1, 2, 2, 1]),
        strides: ints([1, 2, 2, 1]),
        padding: { s: b64('VALID') },
        data_format: { s: b64('NHWC') },
      },
    },
    {
      name: 'gap',
      op: 'Mean',
      input: ['pool', 'mean/axes'],
      attr: { T: float, Tidx: { type: 'DT_INT32' }, keep_dims: { b: false } },
    },
    {
      name: 'fc/MatMul',
      op: 'MatMul',
      input: ['gap', 'fc/kernel'],
      attr: { T: float, transpose_a: { b: false }, transpose_b: { b: false } },
    },
    {
      name: 'fc/BiasAdd',
      op: 'BiasAdd',
      input: ['fc/MatMul', 'fc/bias'],
      attr: { T: float, data_format: { s: b64('NHWC') } },
    },
    { name: 'logits', op: 'Identity', input: ['fc/BiasAdd'], attr: { T: float } },
  ];
  const axes = new Int32Array([1, 2]);
  const weightSpecs: tf.io.WeightsManifestEntry[] = [
    { name: 'conv/kernel', shape: [3, 3, 2, 3], dtype: 'float32' },
    { name: 'conv/bias', shape: [3], dtype: 'float32' },
    { name: 'fc/kernel', shape: [3, 4], dtype: 'float32' },
    { name: 'fc/bias', shape: [4], dtype: 'float32' },
    { name: 'mean/axes', shape: [2], dtype: 'int32' },
  ];
  const parts = [conv, convBias, dense, denseBias, axes];
  const total = parts.reduce((a, p) => a + p.byteLength, 0);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    weightData.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), offset);
    offset += p.byteLength;
  }
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: { node: nodes, library: {}, versions: { producer: 1 } },
    weightSpecs,
    weightData: weightData.buffer,
    format: 'graph-model',
  };
  return { artifacts, conv, convBias, dense, denseBias };
}

export async function buildGraphFixture(): Promise<GraphFixture> {
  const { artifacts, ...weights } = graphArtifacts();
  const model = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
  return { model, ...weights };
}

/**
 * A second hand-written GraphDef, for the translation of ops a Keras model does not produce:
 * input 5×5×2 → `Sub` a constant mean → `Mul` by 2 (both constants with a control input on the image) → `_FusedConv2D` 3×3×2→3 with EXPLICIT
 * padding and a fused `LeakyRelu` (α 0.1) → `Square` (an op the translation does not interpret)
 * → `Mean` over H, W with `keep_dims` → `Squeeze` → `MatMul` with `transpose_b` → `BiasAdd` →
 * `Softmax` → `Identity`. Outputs are named by a signature with `:0` ports.
 */
export function opsGraphArtifacts(): tf.io.ModelArtifacts {
  const mean = Float32Array.of(0.25, -0.5);
  const two = Float32Array.of(2);
  const kernel = values(3 * 3 * 2 * 3, 5);
  const bias = values(3, 6).map((v) => v * 0.1);
  const fcT = values(4 * 3, 7); // [out, in], read with transpose_b
  const fcBias = values(4, 8);
  const axes = new Int32Array([1, 2]);
  const nodes = [
    { name: 'pixels', op: 'Placeholder', attr: { dtype: float, shape: { shape: shape([-1, 5, 5, 2]) } } },
    // Control inputs on the image, as TF Hub exports give their preprocessing constants.
    { ...constNode('pre/mean', [2]), input: ['^pixels'] },
    { ...constNode('pre/two', []), input: ['^pixels'] },
    constNode('conv/kernel', [3, 3, 2, 3]),
    constNode('conv/bias', [3]),
    constNode('head/kernel_t', [4, 3]),
    constNode('head/bias', [4]),
    {
      ...constNode('pool/axes', [2]),
      attr: {
        dtype: { type: 'DT_INT32' },
        value: { tensor: { dtype: 'DT_INT32', tensorShape: shape([2]) } },
      },
    },
    { name: 'pre/sub', op: 'Sub', input: ['pixels', 'pre/mean'], attr: { T: float } },
    { name: 'pre/mul', op: 'Mul', input: ['pre/sub', 'pre/two'], attr: { T: float } },
    {
      name: 'conv/LeakyRelu',
      op: '_FusedConv2D',
      input: ['pre/mul', 'conv/kernel', 'conv/bias'],
      attr: {
        T: float,
        strides: ints([1, 1, 1, 1]),
        padding: { s: b64('EXPLICIT') },
        explicit_paddings: ints([0, 0, 1, 1, 1, 1, 0, 0]),
        data_format: { s: b64('NHWC') },
        dilations: ints([1, 1, 1, 1]),
        fused_ops: { list: { s: [b64('BiasAdd'), b64('LeakyRelu')] } },
        num_args: { i: '1' },
        leakyrelu_alpha: { f: 0.1 },
      },
    },
    { name: 'energy/Square', op: 'Square', input: ['conv/LeakyRelu'], attr: { T: float } },
    {
      name: 'pool/Mean',
      op: 'Mean',
      input: ['energy/Square', 'pool/axes'],
      attr: { T: float, Tidx: { type: 'DT_INT32' }, keep_dims: { b: true } },
    },
    {
      name: 'pool/Squeeze',
      op: 'Squeeze',
      input: ['pool/Mean'],
      attr: { T: float, squeeze_dims: ints([1, 2]) },
    },
    {
      name: 'head/MatMul',
      op: 'MatMul',
      input: ['pool/Squeeze', 'head/kernel_t'],
      attr: { T: float, transpose_a: { b: false }, transpose_b: { b: true } },
    },
    { name: 'head/BiasAdd', op: 'BiasAdd', input: ['head/MatMul', 'head/bias'], attr: { T: float } },
    { name: 'head/Softmax', op: 'Softmax', input: ['head/BiasAdd'], attr: { T: float } },
    { name: 'Identity', op: 'Identity', input: ['head/Softmax'], attr: { T: float } },
  ];
  const weightSpecs: tf.io.WeightsManifestEntry[] = [
    { name: 'pre/mean', shape: [2], dtype: 'float32' },
    { name: 'pre/two', shape: [], dtype: 'float32' },
    { name: 'conv/kernel', shape: [3, 3, 2, 3], dtype: 'float32' },
    { name: 'conv/bias', shape: [3], dtype: 'float32' },
    { name: 'head/kernel_t', shape: [4, 3], dtype: 'float32' },
    { name: 'head/bias', shape: [4], dtype: 'float32' },
    { name: 'pool/axes', shape: [2], dtype: 'int32' },
  ];
  const parts = [mean, two, kernel, bias, fcT, fcBias, axes];
  const total = parts.reduce((a, p) => a + p.byteLength, 0);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    weightData.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), offset);
    offset += p.byteLength;
  }
  const info = (name: string, dims: number[]) => ({ name, dtype: 'DT_FLOAT', tensorShape: shape(dims) });
  return {
    modelTopology: { node: nodes, library: {}, versions: { producer: 1 } },
    weightSpecs,
    weightData: weightData.buffer,
    format: 'graph-model',
    userDefinedMetadata: {
      signature: {
        inputs: { pixels: info('pixels:0', [-1, 5, 5, 2]) },
        outputs: { scores: info('Identity:0', [-1, 4]) },
      },
    },
  };
}

/** The LayersModel twin of the hand-written GraphDef, with the same weights. */
export function fixtureTwin(f: GraphFixture): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 2], name: 'image' });
  const conv = tf.layers.conv2d({
    name: 'conv',
    filters: 3,
    kernelSize: 3,
    padding: 'same',
    activation: 'relu',
  });
  let h = conv.apply(input) as tf.SymbolicTensor;
  h = tf.layers.maxPooling2d({ name: 'pool', poolSize: 2 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(h) as tf.SymbolicTensor;
  const fc = tf.layers.dense({ name: 'fc', units: 4 });
  const out = fc.apply(h) as tf.SymbolicTensor;
  const m = tf.model({ inputs: input, outputs: out });
  conv.setWeights([tf.tensor4d(f.conv, [3, 3, 2, 3]), tf.tensor1d(f.convBias)]);
  fc.setWeights([tf.tensor2d(f.dense, [3, 4]), tf.tensor1d(f.denseBias)]);
  return m;
}
