import * as tf from '@tensorflow/tfjs';

/** Options of `buildSmallCnn`. */
export interface SmallCnnOptions {
  /** Input height and width (default 32). */
  readonly inputSize?: number;
  /** Input channels (default 3). */
  readonly channels?: number;
  readonly numClasses?: number;
  /** Seed of the random weights (default 0). */
  readonly seed?: number;
}

// tfjs treats a seed of 0 as no seed (a fresh random draw each build), so 0 maps to another constant.
const seedOf = (seed: number) => (seed === 0 ? 0x5eed : seed);
const he = (seed: number) => tf.initializers.heNormal({ seed: seedOf(seed) });
const small = (seed: number) => tf.initializers.randomNormal({ mean: 0, stddev: 0.05, seed });

/**
 * A small CNN with random weights: three 3×3 conv (16, 32, 64 channels, fused ReLU) with 2×2
 * max-pooling between them, global average pooling and a dense classifier. Layer names `conv1`,
 * `pool1`, `conv2`, `pool2`, `conv3`, `gap`, `fc`.
 */
export function buildSmallCnn(options: SmallCnnOptions = {}): tf.LayersModel {
  const { inputSize = 32, channels = 3, numClasses = 10, seed = 0 } = options;
  const input = tf.input({ shape: [inputSize, inputSize, channels], name: 'input' });
  let x = input;
  const widths = [16, 32, 64];
  widths.forEach((f, i) => {
    x = tf.layers
      .conv2d({
        name: `conv${i + 1}`,
        filters: f,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: he(seed * 100 + i),
        biasInitializer: small(seed * 100 + 50 + i),
      })
      .apply(x) as tf.SymbolicTensor;
    if (i < widths.length - 1)
      x = tf.layers.maxPooling2d({ name: `pool${i + 1}`, poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  });
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({
      name: 'fc',
      units: numClasses,
      kernelInitializer: tf.initializers.glorotNormal({ seed: seed * 100 + 90 }),
      biasInitializer: small(seed * 100 + 91),
    })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'small-cnn' });
}

/** Options of `buildResNet18Like`. */
export interface ResNet18LikeOptions {
  /** Input height and width (default 224). */
  readonly inputSize?: number;
  /** Channels of the first stage; stages use 1, 2, 4, 8 times it (default 64, as ResNet-18). */
  readonly width?: number;
  readonly numClasses?: number;
  /** Seed of the random weights (default 0). */
  readonly seed?: number;
}

/**
 * A ResNet-18-shaped network with random weights (functional API): 7×7/2 stem conv + BatchNorm +
 * ReLU + 3×3/2 max-pool, four stages of two basic blocks (3×3 conv–BN–ReLU–3×3 conv–BN, identity
 * or 1×1/2 projection shortcut, `Add`, ReLU), global average pooling and a dense classifier.
 * BatchNorm statistics are random too, so folding them is not a no-op. Names follow torchvision
 * with `_` for `.`: `conv1`, `bn1`, `layer2_0_conv1`, `layer2_0_downsample_bn`, `fc`.
 */
export function buildResNet18Like(options: ResNet18LikeOptions = {}): tf.LayersModel {
  const { inputSize = 224, width = 64, numClasses = 1000, seed = 0 } = options;
  let k = seed * 1000;
  const next = () => k++;
  const conv = (name: string, filters: number, size: number, stride: number) =>
    tf.layers.conv2d({
      name,
      filters,
      kernelSize: size,
      strides: stride,
      padding: 'same',
      useBias: false,
      kernelInitializer: he(next()),
    });
  const bn = (name: string) =>
    tf.layers.batchNormalization({
      name,
      gammaInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: next() }),
      betaInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.1, seed: next() }),
      movingMeanInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.1, seed: next() }),
      movingVarianceInitializer: tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: next() }),
    });
  const apply = (l: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) =>
    l.apply(x) as tf.SymbolicTensor;
  const input = tf.input({ shape: [inputSize, inputSize, 3], name: 'input' });
  let x = apply(conv('conv1', width, 7, 2), input);
  x = apply(bn('bn1'), x);
  x = apply(tf.layers.reLU({ name: 'relu' }), x);
  x = apply(tf.layers.maxPooling2d({ name: 'maxpool', poolSize: 3, strides: 2, padding: 'same' }), x);
  let channels = width;
  for (let stage = 1; stage <= 4; stage++) {
    const filters = width * 2 ** (stage - 1);
    for (let block = 0; block < 2; block++) {
      const p = `layer${stage}_${block}_`;
      const stride = stage > 1 && block === 0 ? 2 : 1;
      let y = apply(conv(`${p}conv1`, filters, 3, stride), x);
      y = apply(bn(`${p}bn1`), y);
      y = apply(tf.layers.reLU({ name: `${p}relu1` }), y);
      y = apply(conv(`${p}conv2`, filters, 3, 1), y);
      y = apply(bn(`${p}bn2`), y);
      let shortcut = x;
      if (stride !== 1 || channels !== filters) {
        shortcut = apply(conv(`${p}downsample_conv`, filters, 1, stride), x);
        shortcut = apply(bn(`${p}downsample_bn`), shortcut);
      }
      x = apply(tf.layers.add({ name: `${p}add` }), [y, shortcut]);
      x = apply(tf.layers.reLU({ name: `${p}relu2` }), x);
      channels = filters;
    }
  }
  x = apply(tf.layers.globalAveragePooling2d({ name: 'avgpool' }), x);
  const out = apply(
    tf.layers.dense({
      name: 'fc',
      units: numClasses,
      kernelInitializer: tf.initializers.glorotNormal({ seed: next() }),
    }),
    x,
  );
  return tf.model({ inputs: input, outputs: out, name: 'resnet18-like' });
}
