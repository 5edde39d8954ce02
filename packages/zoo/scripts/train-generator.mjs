// Train the zoo's shapes generator — the prior of DGN-AM (Nguyen et al., 2016) — and write it under
// models/shapes-generator/.
//
//   node scripts/train-generator.mjs [--dry] [--epochs N] [--train-count N]
//
// The generator inverts the shapes classifier's code, as the DGN of Nguyen et al. inverts AlexNet's
// fc6 (Dosovitskiy & Brox, 2016): its input is the conv3 activation (16×16×64, after ReLU) of the
// zoo `shapes` model for an image — a spatial code: the pooled code forgets where the shape is, and
// conv4's barely keeps its outline — and its output that image (64×64×3 in [0, 1], flattened in
// NHWC order, so it feeds the classifier directly). Architecture: a 3×3 conv (32, ReLU), then twice
// [2× nearest upsampling, 3×3 conv (16), ReLU] and a 3×3 conv to 3 channels with a sigmoid.
// Loss: mean squared pixel error (`--feature-weight w` adds w × the squared error between the code
// of the output and the input code, the DGN's feature loss, at about twice the time). Weights,
// data and batch order come from fixed seeds. Needs the package built first.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng } from '@xlens/core';
import { shapesDataset } from '../dist/index.js';
import { fastConv, fillBoxMuller, initTf, loadLayersModel, saveLayersModel } from './tf-setup.mjs';

const tf = await initTf();
const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const SEED = 21;
const TRAIN_SEED = 1001;
const TEST_SEED = 2002;
const epochs = flag('epochs', 10);
const trainCount = flag('train-count', 3200);
const batchSize = 32;
const learningRate = flag('lr', 3e-3);
const featureWeight = flag('feature-weight', 0);
const CODE_LAYER = 'conv3';
const CODE = [16, 16, 64];
const FIRST = 32;
const STAGES = [16, 16];

const classifier = await loadLayersModel(join(here, '..', 'models', 'shapes'));
const encoder = tf.model({ inputs: classifier.inputs, outputs: classifier.getLayer(CODE_LAYER).output });
const codesOf = (images) => {
  const parts = [];
  for (let s = 0; s < images.shape[0]; s += 256)
    parts.push(tf.tidy(() => encoder.predict(tf.slice(images, [s], [Math.min(256, images.shape[0] - s)]))));
  const out = tf.concat(parts);
  tf.dispose(parts);
  return out;
};

/** Seeded He-normal parameters. */
function initParams() {
  const rng = createRng(SEED, 0);
  const normal = (shape, fanIn) => {
    const v = new Float32Array(shape.reduce((a, b) => a * b, 1));
    fillBoxMuller(rng, v, Math.sqrt(2 / fanIn));
    return tf.variable(tf.tensor(v, shape));
  };
  const params = { convs: [] };
  let cin = CODE[2];
  for (const cout of [FIRST, ...STAGES, 3]) {
    params.convs.push({ w: normal([3, 3, cin, cout], 9 * cin), b: tf.variable(tf.zeros([cout])) });
    cin = cout;
  }
  return params;
}

/**
 * 2× nearest-neighbour upsampling as a broadcast product: its gradient is a plain sum, where
 * tfjs-wasm's resizeNearestNeighbor gradient is a slow loop. Same values as `upSampling2d`.
 */
function up2(h) {
  const [n, y, x, c] = h.shape;
  return tf.reshape(tf.mul(tf.reshape(h, [n, y, 1, x, 1, c]), tf.ones([1, 1, 2, 1, 2, 1])), [
    n,
    2 * y,
    2 * x,
    c,
  ]);
}

/** The generator's forward (training and shipped model compute the same function). */
function generate(params, z, conv = fastConv) {
  let h = z;
  params.convs.forEach(({ w, b }, i) => {
    if (i > 0 && i <= STAGES.length) h = up2(h);
    h = tf.add(conv(h, w), b);
    h = i <= STAGES.length ? tf.relu(h) : tf.sigmoid(h);
  });
  return h;
}

/** The same function as a LayersModel with a flat 12288 output: what ships and what xlens loads. */
function buildLayersModel(params) {
  const input = tf.input({ shape: CODE, name: 'code' });
  let h = input;
  params.convs.forEach(({ w, b }, i) => {
    if (i > 0 && i <= STAGES.length) h = tf.layers.upSampling2d({ size: [2, 2], name: `up${i}` }).apply(h);
    const last = i === STAGES.length + 1;
    h = tf.layers
      .conv2d({
        filters: w.shape[3],
        kernelSize: 3,
        padding: 'same',
        activation: last ? 'sigmoid' : 'relu',
        name: last ? 'rgb' : `conv${i + 1}`,
        weights: [w, b],
      })
      .apply(h);
  });
  const out = tf.layers.flatten({ name: 'image' }).apply(h);
  return tf.model({ inputs: input, outputs: out, name: 'shapes-generator' });
}

const t0 = Date.now();
const train = shapesDataset({ count: trainCount, seed: TRAIN_SEED });
const test = shapesDataset({ count: 300, seed: TEST_SEED });
const trainImages = tf.tensor4d(train.images.data, [trainCount, 64, 64, 3]);
const testImages = tf.tensor4d(test.images.data, [300, 64, 64, 3]);
const trainCodes = codesOf(trainImages);
const testCodes = codesOf(testImages);
const params = initParams();
const vars = params.convs.flatMap((c) => [c.w, c.b]);
const optimizer = tf.train.adam(learningRate);
const rng = createRng(SEED, 1);
const steps = Math.ceil(trainCount / batchSize);
const testError = () =>
  tf.tidy(
    () =>
      tf.losses
        .meanSquaredError(
          testImages,
          generate(params, testCodes, (x, w) => tf.conv2d(x, w, 1, 'same')),
        )
        .dataSync()[0],
  );
for (let epoch = 0; epoch < epochs; epoch++) {
  const order = Array.from({ length: trainCount }, (_, i) => i);
  for (let i = trainCount - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  let sum = 0;
  const started = { at: Date.now() };
  for (let s = 0; s < steps; s++) {
    if (s === 3) started.at = Date.now();
    if (s === 8 && args.includes('--verbose'))
      console.log(`  ${((Date.now() - started.at) / 5).toFixed(0)} ms per step`);
    optimizer.learningRate =
      learningRate * 0.5 * (1 + Math.cos((Math.PI * (epoch * steps + s)) / (epochs * steps)));
    const idx = tf.tensor1d(order.slice(s * batchSize, (s + 1) * batchSize), 'int32');
    const x = tf.gather(trainImages, idx);
    const z = tf.gather(trainCodes, idx);
    const loss = optimizer.minimize(
      () => {
        const y = generate(params, z);
        const pixel = tf.losses.meanSquaredError(x, y);
        if (featureWeight === 0) return pixel;
        return tf.add(pixel, tf.mul(featureWeight, tf.losses.meanSquaredError(z, encoder.apply(y))));
      },
      true,
      vars,
    );
    sum += loss.dataSync()[0];
    tf.dispose([idx, x, z, loss]);
  }
  console.log(
    `[shapes-generator] epoch ${epoch + 1}/${epochs} loss ${(sum / steps).toFixed(5)} test pixel MSE ${testError().toFixed(5)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
  );
}
const model = buildLayersModel(params);
const shipped = tf.tidy(() => model.predict(testCodes).reshape([300, 64, 64, 3]));
const trained = tf.tidy(() => generate(params, testCodes, (x, w) => tf.conv2d(x, w, 1, 'same')));
const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(shipped, trained))).dataSync()[0]);
if (diff > 1e-4) throw new Error(`the LayersModel differs from the trained generator by ${diff}`);
const mse = testError();
const seconds = Math.round((Date.now() - t0) / 1000);
console.log(`[shapes-generator] test pixel MSE ${mse.toFixed(5)} in ${seconds} s`);
const meta = {
  name: 'shapes-generator',
  description:
    "Generator (decoder) of 64×64×3 shapes images from the zoo shapes classifier's conv3 code (16×16×64 after ReLU), the image prior of DGN-AM",
  inputShape: CODE,
  outputShape: [64, 64, 3],
  outputLayout: 'NHWC, flattened to 12288',
  outputRange: [0, 1],
  codeOf: { model: 'shapes', layer: CODE_LAYER },
  architecture: `conv3x3-${FIRST}-relu > ${STAGES.map((c) => `up2 conv3x3-${c}-relu`).join(' > ')} > conv3x3-3-sigmoid > flatten`,
  parameters: model.countParams(),
  loss:
    featureWeight > 0 ? `pixel MSE + ${featureWeight} × code MSE through the frozen classifier` : 'pixel MSE',
  testPixelMse: Number(mse.toFixed(5)),
  trainCount,
  data: { dataset: 'shapesDataset', trainSeed: TRAIN_SEED, testSeed: TEST_SEED },
  seed: SEED,
  epochs,
  batchSize,
  optimizer: `adam, lr ${learningRate} with cosine decay`,
  trainingSeconds: seconds,
  tfjsVersion: tf.version.tfjs,
  backend: tf.getBackend(),
  date: new Date().toISOString().slice(0, 10),
};
if (!args.includes('--dry')) {
  const dir = join(here, '..', 'models', 'shapes-generator');
  await saveLayersModel(model, dir);
  writeFileSync(join(dir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  console.log(`[shapes-generator] wrote ${dir}`);
}
