// Train the zoo's permuted-label shapes model (models/shapes-permuted/), the second model of
// Adebayo et al.'s (2018) data-randomisation test: the `shapes` architecture trained on shapes
// images whose labels were shuffled, until it has memorised them (≥ 95% training accuracy).
//
//   node scripts/train-permuted.mjs [--dry] [--force] [--epochs N] [--lr X] [--train-count N] [--out DIR]
//
// The images are the first `trainCount` items of the `shapes` model's training sequence; the labels
// are that label vector under a seeded random permutation, so the class counts stay balanced but
// every link between picture and label is gone. Memorising random labels needs many more passes
// than learning real ones, so the subset is small. Training stops at the first check (every
// `checkEvery` epochs) where the folded network — the one that ships — reaches `stopAccuracy` on
// its own training set; the schedule (cosine decay over `epochs`) and all seeds are fixed, so a
// rerun on the same machine reproduces the weights. Needs the package built first (`npx tsc -b`).
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng } from '@xlens/core';
import { permutedLabels, SHAPE_CLASSES, shapesDataset } from '../dist/index.js';
import {
  accuracy,
  buildLayersModel,
  describe,
  foldedForward,
  foldWith,
  gather,
  initParams,
  predictAll,
  trainForward,
} from './cnn.mjs';
import { initTf, saveLayersModel } from './tf-setup.mjs';

const tf = await initTf();
const here = dirname(fileURLToPath(import.meta.url));
const modelsDir = join(here, '..', 'models');

const NAME = 'shapes-permuted';
const SHAPES_TRAIN_SEED = 1001;
const SHAPES_TEST_SEED = 2002;

const SPEC = {
  description:
    'Shapes architecture trained on 300 shapes images with randomly permuted labels (memorised; the data-randomisation test of Adebayo et al. 2018)',
  inputShape: [64, 64, 3],
  labels: SHAPE_CLASSES,
  layers: [['conv', 16], ['pool'], ['conv', 32], ['pool'], ['conv', 64], ['pool'], ['conv', 64]],
  seed: 21,
  permutationSeed: 22,
  epochs: 120,
  batchSize: 16,
  learningRate: 3e-3,
  trainCount: 300,
  testCount: 600,
  checkEvery: 5,
  stopAccuracy: 0.985,
  required: 0.95,
};

async function main(options) {
  const spec = SPEC;
  const epochs = options.epochs ?? spec.epochs;
  const learningRate = options.lr ?? spec.learningRate;
  const t0 = Date.now();
  const data = shapesDataset({ count: options.trainCount ?? spec.trainCount, seed: SHAPES_TRAIN_SEED });
  const labels = permutedLabels(data.labels, spec.permutationSeed);
  const n = labels.length;
  const k = spec.labels.length;
  const kept = labels.filter((l, i) => l === data.labels[i]).length;
  const trainSet = { images: data.images, labels };
  const testSet = shapesDataset({ count: spec.testCount, seed: SHAPES_TEST_SEED });
  console.log(`[${NAME}] ${n} train items, ${kept} keep their true label by chance`);

  const params = initParams(spec);
  const vars = params.flatMap((p) => (p.kind === 'conv' ? [p.w, p.gamma, p.beta] : [p.w, p.b]));
  const optimizer = tf.train.adam(learningRate);
  const steps = Math.ceil(n / spec.batchSize);
  const rng = createRng(spec.seed, 1);
  let epochsRun = 0;
  let trainAccuracy = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    let lossSum = 0;
    for (let s = 0; s < steps; s++) {
      const progress = (epoch * steps + s) / (epochs * steps);
      optimizer.learningRate = learningRate * 0.5 * (1 + Math.cos(Math.PI * progress));
      const idx = order.slice(s * spec.batchSize, (s + 1) * spec.batchSize);
      const x = gather(trainSet.images.data, spec.inputShape, idx, rng, 0);
      const y = tf.oneHot(
        tf.tensor1d(
          idx.map((i) => labels[i]),
          'int32',
        ),
        k,
      );
      const loss = optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(y, trainForward(spec, params, x)),
        true,
        vars,
      );
      lossSum += loss.dataSync()[0];
      tf.dispose([x, y, loss]);
    }
    epochsRun = epoch + 1;
    let line = `[${NAME}] epoch ${epochsRun}/${epochs} loss ${(lossSum / steps).toFixed(4)}`;
    if (epochsRun % spec.checkEvery === 0 || epochsRun === epochs) {
      const folded = foldWith(spec, params, trainSet, n);
      trainAccuracy = accuracy(
        predictAll((x) => foldedForward(spec, folded, x), trainSet.images),
        labels,
      );
      tf.dispose(folded.flatMap((l) => [l.w, l.b]));
      line += ` train acc ${(trainAccuracy * 100).toFixed(1)}%`;
    }
    console.log(`${line} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    if (trainAccuracy >= spec.stopAccuracy) break;
  }

  const folded = foldWith(spec, params, trainSet, n);
  const model = buildLayersModel(NAME, spec, folded);
  const logits = predictAll((x) => model.predict(x), trainSet.images);
  trainAccuracy = accuracy(logits, labels);
  const trueLabelAccuracy = accuracy(logits, data.labels);
  const testAccuracy = accuracy(
    predictAll((x) => model.predict(x), testSet.images),
    testSet.labels,
  );
  const seconds = (Date.now() - t0) / 1000;
  console.log(
    `[${NAME}] training accuracy (permuted labels) ${(trainAccuracy * 100).toFixed(2)}%, held-out accuracy (true labels) ${(testAccuracy * 100).toFixed(2)}%, ${seconds.toFixed(0)} s`,
  );
  tf.dispose(folded.flatMap((l) => [l.w, l.b]));
  const meta = {
    name: NAME,
    description: spec.description,
    inputShape: spec.inputShape,
    layout: 'NHWC',
    inputRange: [0, 1],
    outputKind: 'logits',
    numClasses: k,
    architecture: describe(spec),
    parameters: model.countParams(),
    camLayer: 'conv4',
    trainAccuracy: Number(trainAccuracy.toFixed(4)),
    trueLabelTrainAccuracy: Number(trueLabelAccuracy.toFixed(4)),
    testAccuracy: Number(testAccuracy.toFixed(4)),
    trainCount: n,
    testCount: testSet.labels.length,
    data: {
      dataset: 'shapesDataset',
      trainSeed: SHAPES_TRAIN_SEED,
      testSeed: SHAPES_TEST_SEED,
      labels: `the true labels of the ${n} items under a random permutation (seed ${spec.permutationSeed}); ${kept} items keep their true label by chance`,
      permutationSeed: spec.permutationSeed,
    },
    seed: spec.seed,
    epochs: epochsRun,
    scheduledEpochs: epochs,
    stopRule: `stop at the first check (every ${spec.checkEvery} epochs) with training accuracy ≥ ${spec.stopAccuracy}`,
    batchSize: spec.batchSize,
    optimizer: `adam, lr ${learningRate} with cosine decay over ${epochs} epochs, no weight decay; batch norm in training, folded into the convs`,
    augmentation: 'none',
    trainingSeconds: Math.round(seconds),
    tfjsVersion: tf.version.tfjs,
    backend: tf.getBackend(),
    date: new Date().toISOString().slice(0, 10),
  };
  if (trainAccuracy < spec.required && !options.force) {
    throw new Error(
      `training accuracy ${trainAccuracy} is below the required ${spec.required}; nothing written (--force writes anyway)`,
    );
  }
  if (!options.dry) {
    const dir = options.out ?? join(modelsDir, NAME);
    await saveLayersModel(model, dir);
    writeFileSync(join(dir, 'labels.json'), `${JSON.stringify(spec.labels)}\n`);
    writeFileSync(join(dir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
    console.log(`[${NAME}] wrote ${dir}`);
  }
  tf.dispose(vars);
  model.dispose();
  optimizer.dispose();
}

const args = process.argv.slice(2);
const flag = (name) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : undefined;
};
await main({
  dry: args.includes('--dry'),
  force: args.includes('--force'),
  verbose: args.includes('--verbose'),
  epochs: flag('epochs'),
  lr: flag('lr'),
  trainCount: flag('train-count'),
  // --out DIR writes somewhere else than models/shapes-permuted (for experiments).
  out: args.includes('--out') ? args[args.indexOf('--out') + 1] : undefined,
});
