// Trains the test fixture `test/fixtures/mobilenet-softmax/`: a small MobileNetV2-style Keras
// model (BatchNorm, ReLU6, depthwise convolutions, inverted residual blocks with residual adds)
// whose head is Dense(6, activation: 'softmax'), on the zoo's shapes data. Seeded: initial weights
// and batch order come from fixed seeds. tfjs-wasm has no filter gradients for convolutions, so
// training runs on tfjs's cpu backend (a few minutes on one core).
//
//   node packages/backend-tfjs/scripts/train-softmax-fixture.mjs [epochs]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
// The zoo is a sibling workspace package; its data sets are only needed here, not by the backend.
import { shapesDataset } from '../../zoo/dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'test', 'fixtures', 'mobilenet-softmax');
const epochs = Number(process.argv[2] ?? 6);
const size = 64;
const width = 8;

await tf.setBackend('cpu');
await tf.ready();

let seed = 1;
const init = () => tf.initializers.heNormal({ seed: seed++ });
const bn = (x, name) =>
  tf.layers.batchNormalization({ name, axis: -1, momentum: 0.9, epsilon: 1e-3 }).apply(x);
const relu6 = (x, name) => tf.layers.reLU({ name, maxValue: 6 }).apply(x);
const conv = (x, filters, kernel, strides, name) =>
  tf.layers
    .conv2d({ name, filters, kernelSize: kernel, strides, padding: 'same', useBias: false, kernelInitializer: init() })
    .apply(x);
const depthwise = (x, strides, name) =>
  tf.layers
    .depthwiseConv2d({ name, kernelSize: 3, strides, padding: 'same', useBias: false, depthwiseInitializer: init() })
    .apply(x);

/** One inverted residual block (expand 1×1 → depthwise 3×3 → project 1×1), with a residual add when shapes allow. */
function block(x, index, expansion, filters, strides) {
  const prefix = `block_${index}_`;
  const inChannels = x.shape[3];
  let h = x;
  if (expansion !== 1) {
    h = relu6(bn(conv(h, inChannels * expansion, 1, 1, `${prefix}expand`), `${prefix}expand_BN`), `${prefix}expand_relu`);
  }
  h = relu6(bn(depthwise(h, strides, `${prefix}depthwise`), `${prefix}depthwise_BN`), `${prefix}depthwise_relu`);
  h = bn(conv(h, filters, 1, 1, `${prefix}project`), `${prefix}project_BN`);
  if (strides === 1 && inChannels === filters) h = tf.layers.add({ name: `${prefix}add` }).apply([x, h]);
  return h;
}

const input = tf.input({ shape: [size, size, 3], name: 'input' });
let h = relu6(bn(conv(input, 2 * width, 3, 2, 'Conv1'), 'bn_Conv1'), 'Conv1_relu'); // 32×32
h = block(h, 0, 1, width, 1);
h = block(h, 1, 4, 2 * width, 2); // 16×16
h = block(h, 2, 4, 2 * width, 1);
h = block(h, 3, 4, 3 * width, 2); // 8×8
h = block(h, 4, 4, 3 * width, 1);
h = relu6(bn(conv(h, 8 * width, 1, 1, 'Conv_1'), 'Conv_1_bn'), 'out_relu');
h = tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }).apply(h);
const output = tf.layers
  .dense({ name: 'predictions', units: 6, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }) })
  .apply(h);
const model = tf.model({ inputs: input, outputs: output, name: 'mobilenet_softmax' });
model.compile({ optimizer: tf.train.adam(3e-3), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });

const train = shapesDataset({ count: Number(process.env.COUNT ?? 3000), seed: 11 });
const test = shapesDataset({ count: 600, seed: 2002 });
const xs = tf.tensor(train.images.data, train.images.shape);
const ys = tf.tensor1d(Int32Array.from(train.labels), 'float32');
const t0 = Date.now();
await model.fit(xs, ys, {
  epochs,
  batchSize: 32,
  shuffle: true,
  verbose: 0,
  callbacks: {
    onEpochEnd: (epoch, logs) =>
      console.log(`epoch ${epoch + 1}: loss ${logs.loss.toFixed(3)} acc ${logs.acc.toFixed(3)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`),
  },
});
const tx = tf.tensor(test.images.data, test.images.shape);
const probs = model.predict(tx);
const predicted = probs.argMax(-1).dataSync();
const confidence = probs.max(-1).dataSync();
const accuracy = predicted.reduce((a, p, i) => a + (p === test.labels[i] ? 1 : 0), 0) / test.labels.length;
const median = [...confidence].sort((a, b) => a - b)[confidence.length >> 1];
console.log(`test accuracy ${(100 * accuracy).toFixed(2)}%, median top-1 probability ${median.toFixed(4)}`);

mkdirSync(out, { recursive: true });
await model.save(
  tf.io.withSaveHandler(async (artifacts) => {
    const bytes = Buffer.from(artifacts.weightData);
    writeFileSync(join(out, 'weights.bin'), bytes);
    writeFileSync(
      join(out, 'model.json'),
      JSON.stringify({
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      }),
    );
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }),
);
writeFileSync(
  join(out, 'meta.json'),
  `${JSON.stringify(
    {
      trainedBy: 'packages/backend-tfjs/scripts/train-softmax-fixture.mjs',
      data: { train: { count: train.labels.length, seed: 11 }, test: { count: test.labels.length, seed: 2002 } },
      labels: train.classNames,
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
