// Trains the test fixture `test/fixtures/mobilenet-softmax/`: a small MobileNetV2-style Keras
// model (BatchNorm, ReLU6, depthwise convolutions, inverted residual blocks with residual adds)
// whose head is Dense(6, activation: 'softmax'), trained on the zoo's shapes data and saved as a
// tfjs LayersModel. Seeded: initial weights and batch order come from fixed seeds.
//
// tfjs-wasm has no filter gradients for convolutions (nor an input gradient for depthwise ones),
// and tfjs's cpu backend is far too slow, so the network is trained as plain tensors on wasm with
// custom gradients that are forward convolutions (below), BatchNorm on batch statistics; the
// population statistics are then measured layer by layer, and everything is written into the
// Keras model with the layer names of Keras's MobileNetV2.
//
//   node packages/backend-tfjs/scripts/train-softmax-fixture.mjs [epochs]   (default 20; COUNT=3000 images)
//   node packages/backend-tfjs/scripts/train-softmax-fixture.mjs --samples-only   (samples.npy only)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
// The zoo is a sibling workspace package: its data sets are needed here only, not by the backend.
import { shapesDataset } from '../../zoo/dist/index.js';
import { initTfjsBackend } from '../dist/index.js';
import { linearVjp } from '../dist/ops/linear.js';

const here = dirname(fileURLToPath(import.meta.url));
const samplesOnly = process.argv.includes('--samples-only');
const out = join(here, '..', 'test', 'fixtures', 'mobilenet-softmax');
const epochs = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 20);
const trainCount = Number(process.env.COUNT ?? 3000);
const size = 64;
const width = 8;
const bnEpsilon = 1e-3;
await initTfjsBackend('wasm');

/** TF 'same' padding: [before, after] for one axis. */
function samePad(inSize, outSize, stride, kernel) {
  const total = Math.max((outSize - 1) * stride + kernel - inSize, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Filter gradient of a 'same' conv as a forward conv dilated by the stride (XNNPACK on wasm). */
function convFilterGrad(x, dy, shape, stride) {
  const [kh, kw, ci, co] = shape;
  const [, h, w] = x.shape;
  const [, ho, wo] = dy.shape;
  const xp = tf.pad(x, [[0, 0], samePad(h, ho, stride, kh), samePad(w, wo, stride, kw), [0, 0]]);
  // out[ci, i, j, co] = Σ_{n, y, x} xp[n, i + s·y, j + s·x, ci] · dy[n, y, x, co]
  const r = tf.conv2d(
    tf.transpose(xp, [3, 1, 2, 0]),
    tf.transpose(dy, [1, 2, 0, 3]),
    1,
    'valid',
    'NHWC',
    stride,
  );
  return tf.transpose(tf.slice(r, [0, 0, 0, 0], [ci, kh, kw, co]), [1, 2, 0, 3]);
}

/** The same for a depthwise conv (multiplier 1): one depthwise conv over batch × channels. */
function depthwiseFilterGrad(x, dy, shape, stride) {
  const [kh, kw, c] = shape;
  const [n, h, w] = x.shape;
  const [, ho, wo] = dy.shape;
  const xp = tf.pad(x, [[0, 0], samePad(h, ho, stride, kh), samePad(w, wo, stride, kw), [0, 0]]);
  const [hp, wp] = [xp.shape[1], xp.shape[2]];
  const lhs = tf.reshape(tf.transpose(xp, [1, 2, 0, 3]), [1, hp, wp, n * c]);
  const kernel = tf.reshape(tf.transpose(dy, [1, 2, 0, 3]), [ho, wo, n * c, 1]);
  const r = tf.depthwiseConv2d(lhs, kernel, 1, 'valid', 'NHWC', stride);
  return tf.reshape(tf.sum(tf.reshape(tf.slice(r, [0, 0, 0, 0], [1, kh, kw, n * c]), [kh, kw, n, c]), 2), [
    kh,
    kw,
    c,
    1,
  ]);
}

function conv(x, w, stride, depthwise) {
  const geometry = {
    kind: depthwise ? 'depthwise' : 'conv',
    strides: [stride, stride],
    dilations: [1, 1],
    padding: 'same',
  };
  return tf.customGrad((xin, win, save) => {
    save([xin, win]);
    return {
      value: (depthwise ? tf.depthwiseConv2d : tf.conv2d)(xin, win, stride, 'same'),
      gradFunc: (dy, [xs, ws]) => [
        linearVjp(geometry, dy, ws, xs.shape),
        (depthwise ? depthwiseFilterGrad : convFilterGrad)(xs, dy, ws.shape, stride),
      ],
    };
  })(x, w);
}

// The network as a list of ops (Keras MobileNetV2 layer names).
const ops = [];
let seed = 1;
let channels = 3;
const rng = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const normal = (n, std) =>
  Float32Array.from(
    { length: n },
    () => Math.sqrt(-2 * Math.log(rng() + 1e-12)) * Math.cos(2 * Math.PI * rng()) * std,
  );
const convOp = (name, filters, kernel, stride) => {
  ops.push({
    type: 'conv',
    name,
    stride,
    w: tf.variable(
      tf.tensor4d(normal(kernel * kernel * channels * filters, Math.sqrt(2 / (kernel * kernel * channels))), [
        kernel,
        kernel,
        channels,
        filters,
      ]),
    ),
  });
  channels = filters;
};
const dwOp = (name, stride) =>
  ops.push({
    type: 'depthwise',
    name,
    stride,
    w: tf.variable(tf.tensor4d(normal(9 * channels, Math.sqrt(2 / 9)), [3, 3, channels, 1])),
  });
const bnOp = (name) =>
  ops.push({
    type: 'bn',
    name,
    gamma: tf.variable(tf.ones([channels])),
    beta: tf.variable(tf.zeros([channels])),
  });
const reluOp = (name) => ops.push({ type: 'relu6', name });

function block(index, expansion, filters, stride) {
  const prefix = `block_${index}_`;
  const inChannels = channels;
  const start = ops.length;
  if (expansion !== 1) {
    convOp(`${prefix}expand`, inChannels * expansion, 1, 1);
    bnOp(`${prefix}expand_BN`);
    reluOp(`${prefix}expand_relu`);
  }
  dwOp(`${prefix}depthwise`, stride);
  bnOp(`${prefix}depthwise_BN`);
  reluOp(`${prefix}depthwise_relu`);
  convOp(`${prefix}project`, filters, 1, 1);
  bnOp(`${prefix}project_BN`);
  if (stride === 1 && inChannels === filters) ops.push({ type: 'add', name: `${prefix}add`, from: start });
}

convOp('Conv1', 2 * width, 3, 2);
bnOp('bn_Conv1');
reluOp('Conv1_relu');
block(0, 1, width, 1);
block(1, 4, 2 * width, 2);
block(2, 4, 2 * width, 1);
block(3, 4, 3 * width, 2);
block(4, 4, 3 * width, 1);
convOp('Conv_1', 8 * width, 1, 1);
bnOp('Conv_1_bn');
reluOp('out_relu');
const dense = {
  w: tf.variable(tf.tensor2d(normal(channels * 6, Math.sqrt(1 / channels)), [channels, 6])),
  b: tf.variable(tf.zeros([6])),
};

/** Forward with BatchNorm on batch statistics (training), or on `stats` (inference). */
function forward(x, stats) {
  const values = [];
  let h = x;
  for (const op of ops) {
    values.push(h);
    if (op.type === 'conv' || op.type === 'depthwise') h = conv(h, op.w, op.stride, op.type === 'depthwise');
    else if (op.type === 'relu6') h = tf.clipByValue(h, 0, 6);
    else if (op.type === 'add') h = tf.add(values[op.from], h);
    else {
      const { mean, variance } = stats?.get(op.name) ?? tf.moments(h, [0, 1, 2]);
      h = tf.add(tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, bnEpsilon))), op.gamma), op.beta);
    }
  }
  return tf.add(tf.matMul(tf.mean(h, [1, 2]), dense.w), dense.b);
}

/** Population statistics, layer by layer: each BatchNorm's under the already calibrated ones before it. */
function calibrate(images) {
  const stats = new Map();
  for (const op of ops.filter((o) => o.type === 'bn')) {
    let sum = null;
    let square = null;
    let count = 0;
    for (let s = 0; s < images.shape[0]; s += 100) {
      tf.tidy(() => {
        const x = tf.slice(images, [s], [Math.min(100, images.shape[0] - s)]);
        // Run up to this BatchNorm's input.
        let h = x;
        const values = [];
        for (const o of ops) {
          if (o === op) break;
          values.push(h);
          if (o.type === 'conv' || o.type === 'depthwise')
            h = (o.type === 'conv' ? tf.conv2d : tf.depthwiseConv2d)(h, o.w, o.stride, 'same');
          else if (o.type === 'relu6') h = tf.clipByValue(h, 0, 6);
          else if (o.type === 'add') h = tf.add(values[o.from], h);
          else {
            const st = stats.get(o.name);
            h = tf.add(
              tf.mul(tf.div(tf.sub(h, st.mean), tf.sqrt(tf.add(st.variance, bnEpsilon))), o.gamma),
              o.beta,
            );
          }
        }
        const n = h.shape[0] * h.shape[1] * h.shape[2];
        const s1 = tf.sum(h, [0, 1, 2]);
        const s2 = tf.sum(tf.square(h), [0, 1, 2]);
        const next1 = sum ? tf.add(sum, s1) : s1;
        const next2 = square ? tf.add(square, s2) : s2;
        if (sum) tf.dispose([sum, square]);
        sum = tf.keep(next1);
        square = tf.keep(next2);
        count += n;
      });
    }
    const mean = tf.div(sum, count);
    stats.set(op.name, { mean, variance: tf.sub(tf.div(square, count), tf.square(mean)) });
    tf.dispose([sum, square]);
  }
  return stats;
}

const test = shapesDataset({ count: 600, seed: 2002 });

/** Six held-out test images, the first of each class, as 8-bit pixels in a `.npy` for the tests. */
function writeSamples() {
  const item = size * size * 3;
  const picks = test.classNames.map((_, c) => test.labels.indexOf(c));
  const pixels = new Uint8Array(picks.length * item);
  picks.forEach((p, i) => {
    for (let j = 0; j < item; j++) pixels[i * item + j] = Math.round(255 * test.images.data[p * item + j]);
  });
  let header = `{'descr': '|u1', 'fortran_order': False, 'shape': (${picks.length}, ${size}, ${size}, 3), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const bytes = new Uint8Array(10 + header.length + pixels.length);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(bytes.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) bytes[10 + i] = header.charCodeAt(i);
  bytes.set(pixels, 10 + header.length);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'samples.npy'), bytes);
  console.log(`samples.npy: test items ${picks.join(', ')} (${test.classNames.join(', ')})`);
}
if (samplesOnly) {
  writeSamples();
  process.exit(0);
}
const train = shapesDataset({ count: trainCount, seed: 11 });
const xs = tf.tensor(train.images.data, train.images.shape);
const labels = tf.oneHot(tf.tensor1d(Int32Array.from(train.labels), 'int32'), 6).toFloat();
const optimizer = tf.train.adam(3e-3);
const t0 = Date.now();
const batch = 32;
for (let epoch = 0; epoch < epochs; epoch++) {
  optimizer.learningRate = 3e-3 * 0.85 ** epoch;
  const order = Array.from({ length: trainCount }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  let loss = 0;
  for (let s = 0; s + batch <= trainCount; s += batch) {
    const idx = tf.tensor1d(Int32Array.from(order.slice(s, s + batch)), 'int32');
    const value = optimizer.minimize(() => {
      const logits = forward(tf.gather(xs, idx));
      return tf.losses.softmaxCrossEntropy(tf.gather(labels, idx), logits);
    }, true);
    loss += value.dataSync()[0];
    tf.dispose([idx, value]);
  }
  console.log(
    `epoch ${epoch + 1}: loss ${(loss / Math.floor(trainCount / batch)).toFixed(3)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
  );
}
const stats = calibrate(tf.slice(xs, [0], [Math.min(1000, trainCount)]));

// The Keras model with the same weights, and the population statistics as BatchNorm moving stats.
const keras = new Map();
const input = tf.input({ shape: [size, size, 3], name: 'input' });
let h = input;
const values = [];
for (const op of ops) {
  values.push(h);
  let layer;
  let weights;
  if (op.type === 'conv') {
    layer = tf.layers.conv2d({
      name: op.name,
      filters: op.w.shape[3],
      kernelSize: op.w.shape[0],
      strides: op.stride,
      padding: 'same',
      useBias: false,
    });
    weights = [op.w];
  } else if (op.type === 'depthwise') {
    layer = tf.layers.depthwiseConv2d({
      name: op.name,
      kernelSize: 3,
      strides: op.stride,
      padding: 'same',
      useBias: false,
    });
    weights = [op.w];
  } else if (op.type === 'bn') {
    layer = tf.layers.batchNormalization({ name: op.name, axis: -1, epsilon: bnEpsilon });
    const st = stats.get(op.name);
    weights = [op.gamma, op.beta, st.mean, st.variance];
  } else if (op.type === 'relu6') {
    layer = tf.layers.reLU({ name: op.name, maxValue: 6 });
  } else {
    layer = tf.layers.add({ name: op.name });
  }
  h = layer.apply(op.type === 'add' ? [values[op.from], h] : h);
  if (weights) keras.set(layer, weights);
}
h = tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }).apply(h);
const head = tf.layers.dense({ name: 'predictions', units: 6, activation: 'softmax' });
h = head.apply(h);
keras.set(head, [dense.w, dense.b]);
const model = tf.model({ inputs: input, outputs: h, name: 'mobilenet_softmax' });
for (const [layer, weights] of keras) layer.setWeights(weights);

const tx = tf.tensor(test.images.data, test.images.shape);
const probs = model.predict(tx);
const check = tf.softmax(forward(tx, stats));
const mismatch = tf.max(tf.abs(tf.sub(probs, check))).dataSync()[0];
const predicted = probs.argMax(-1).dataSync();
const confidence = probs.max(-1).dataSync();
const accuracy = predicted.reduce((a, p, i) => a + (p === test.labels[i] ? 1 : 0), 0) / test.labels.length;
const median = [...confidence].sort((a, b) => a - b)[confidence.length >> 1];
console.log(
  `test accuracy ${(100 * accuracy).toFixed(2)}%, median top-1 probability ${median.toFixed(4)} (Keras vs training graph: ${mismatch.toExponential(1)})`,
);

mkdirSync(out, { recursive: true });
await model.save(
  tf.io.withSaveHandler(async (artifacts) => {
    writeFileSync(join(out, 'weights.bin'), Buffer.from(artifacts.weightData));
    const json = {
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: null,
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    };
    writeFileSync(join(out, 'model.json'), JSON.stringify(json));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }),
);
writeSamples();
writeFileSync(
  join(out, 'meta.json'),
  `${JSON.stringify(
    {
      trainedBy: 'packages/backend-tfjs/scripts/train-softmax-fixture.mjs',
      data: { train: { count: trainCount, seed: 11 }, test: { count: test.labels.length, seed: 2002 } },
      labels: train.classNames,
      samples: 'samples.npy: the first test item of each class, 8-bit pixels (÷ 255 for the model)',
      inputRange: [0, 1],
      epochs,
      testAccuracy: accuracy,
      medianTop1Probability: median,
      trainingSeconds: Math.round((Date.now() - t0) / 1000),
    },
    null,
    2,
  )}\n`,
);
