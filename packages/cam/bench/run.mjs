// Benchmark of @xlens/cam on the tfjs WASM backend: each method's time as a multiple of one forward
// pass of the same model and batch (batch 1), for a small CNN (32×32) and a ResNet-18-shaped net
// (224×224). Run after building: `pnpm --filter @xlens/cam bench` (about 5–10 minutes).
//
// The same small CNN is also written as a core `ToySpec` and built on both backends with identical
// weights (tfjs via `buildToyModel`, ONNX Runtime via `toyOnnx`), for a side-by-side comparison.
// When the zoo's trained `shapes` model is present (packages/zoo/models/shapes, written by the zoo's
// training script), it is measured too, on tfjs and — with the same weights — on ONNX Runtime.
//
// Score-CAM and Ablation-CAM need one forward per channel of their layer, so on the ResNet they run
// on `layer1_1_relu2` (64 channels, 56×56) instead of the automatic `layer4_1_relu2` (512
// channels, which takes ~350 forwards' time for Ablation-CAM). The heavy methods run once on the
// ResNet (no warm-up).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { fromOnnx } from '@xlens/backend-onnx';
import { toyOnnx } from '@xlens/backend-onnx/testing';
import { fromTfjs, initTfjsBackend, loadTfjsModel } from '@xlens/backend-tfjs';
import { buildResNet18Like, buildSmallCnn, buildToyModel } from '@xlens/backend-tfjs/testing';
import { createRng } from '@xlens/core';
import { markdownTable, ratioTable } from '../../../scripts/bench-util.mjs';
import { camMethods } from '../dist/index.js';

const byId = Object.fromEntries(camMethods.map((m) => [m.id, m]));

/** [row name, method id, options, heavy, options on the ResNet (if different)] */
const cases = [
  ['cam', 'cam', {}],
  ['grad-cam', 'grad-cam', {}],
  ['guided-grad-cam', 'guided-grad-cam', {}],
  ['grad-cam-plus-plus', 'grad-cam-plus-plus', {}],
  ['smooth-grad-cam-plus-plus (16 samples)', 'smooth-grad-cam-plus-plus', { samples: 16 }, true],
  ['score-cam (64 channels)', 'score-cam', {}, true, { layer: 'layer1_1_relu2' }],
  ['layer-cam', 'layer-cam', {}],
  ['xgrad-cam', 'xgrad-cam', {}],
  ['hires-cam', 'hires-cam', {}],
  ['eigen-cam', 'eigen-cam', {}],
  ['ablation-cam (64 channels)', 'ablation-cam', {}, true, { layer: 'layer1_1_relu2' }],
  ['clear (10 classes)', 'clear', { classes: 10 }, true],
  ['ccam (5 components)', 'ccam', { components: 5 }],
];

function randomInput(size, channels = 3) {
  const data = new Float32Array(size * size * channels);
  let s = 12345;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = s / 2 ** 32;
  }
  return { data, shape: [1, size, size, channels] };
}

const skipped = [];

/** buildSmallCnn's architecture as a backend-neutral ToySpec with seeded He-normal weights. */
function smallCnnSpec() {
  const rng = createRng(7, 1);
  const he = (count, fanIn) => Array.from(rng.fillNormal(new Float32Array(count), 0, Math.sqrt(2 / fanIn)));
  const conv = (name, inC, outC) => ({
    type: 'conv',
    name,
    inChannels: inC,
    outChannels: outC,
    kernel: 3,
    padding: 'same',
    weight: he(outC * inC * 9, inC * 9),
    bias: new Array(outC).fill(0.01),
    activation: 'relu',
  });
  return {
    name: 'small-cnn-spec',
    inputShape: [3, 32, 32],
    numClasses: 10,
    layers: [
      conv('conv1', 3, 16),
      { type: 'max-pool', name: 'pool1', size: 2 },
      conv('conv2', 16, 32),
      { type: 'max-pool', name: 'pool2', size: 2 },
      conv('conv3', 32, 64),
      { type: 'global-avg-pool', name: 'gap' },
      {
        type: 'dense',
        name: 'fc',
        inFeatures: 64,
        outFeatures: 10,
        weight: he(640, 64),
        bias: new Array(10).fill(0),
      },
    ],
  };
}

async function column(title, model, x, resnet) {
  const started = performance.now();
  const tensorsBefore = tf.memory().numTensors;
  const runnable = cases.filter(([name, id]) => {
    const ok = id !== 'ablation-cam' || typeof model.forwardScaled === 'function';
    if (!ok) skipped.push(`${name} on ${title}: the backend has no forwardScaled`);
    return ok;
  });
  const rows = await ratioTable(
    () => model.forward(x),
    runnable.map(([name, id, options, heavy, resnetOptions]) => ({
      name,
      run: () =>
        byId[id].explain(model, x, 0, { ...options, ...(resnet ? resnetOptions : {}), batchSize: 16 }),
      warmup: heavy && resnet ? 0 : 2,
      // Small models take milliseconds, so many repeats keep the median stable on a busy machine.
      repeats: resnet ? (heavy ? 1 : 2) : heavy ? 7 : 15,
    })),
    { forwardRepeats: resnet ? 7 : 41 },
  );
  const leaked = tf.memory().numTensors - tensorsBefore;
  await model.dispose();
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  console.error(
    `${title}: forward ${rows[0].ms.toFixed(1)} ms, ${seconds} s in all, tensors leaked: ${leaked}`,
  );
  return { title: `${title} (forward ${rows[0].ms.toFixed(1)} ms)`, rows };
}

const backend = await initTfjsBackend('wasm');
const columns = [
  await column('small CNN 32², tfjs', fromTfjs(buildSmallCnn()), randomInput(32), false),
  await column(
    'ResNet-18-like 224², tfjs',
    fromTfjs(buildResNet18Like({ inputSize: 224 })),
    randomInput(224),
    true,
  ),
];
const spec = smallCnnSpec();
const nchw = { ...randomInput(32), shape: [1, 3, 32, 32] };
columns.push(await column('same small CNN, tfjs', fromTfjs(buildToyModel(spec)), randomInput(32), false));
columns.push(
  await column('same small CNN, onnx', await fromOnnx(toyOnnx(spec), { intraOpThreads: 1 }), nchw, false),
);
const notes = [];
const zoo = fileURLToPath(new URL('../../zoo/models/shapes/', import.meta.url));
if (existsSync(`${zoo}model.json`) && existsSync(`${zoo}meta.json`)) {
  const meta = JSON.parse(readFileSync(`${zoo}meta.json`, 'utf8'));
  const [h, , c] = meta.inputShape;
  const x = randomInput(h, c);
  columns.push(await column(`zoo shapes ${h}², tfjs`, await loadTfjsModel(`${zoo}model.json`), x, false));
  try {
    const onnx = await fromOnnx(`${zoo}model.onnx`, { intraOpThreads: 1 });
    columns.push(await column(`zoo shapes ${h}², onnx`, onnx, x, false));
  } catch (error) {
    notes.push(`zoo shapes on ONNX Runtime failed: ${error.message}`);
  }
} else {
  notes.push(
    'zoo shapes model not found (packages/zoo/models/shapes): train it to add the tfjs and ONNX columns',
  );
}
console.log(
  `tfjs ${tf.version.tfjs}, backend ${backend}, batch 1, ${new Date().toISOString().slice(0, 10)}\n`,
);
console.log(markdownTable(columns));
for (const s of [...skipped, ...notes]) console.log(`\n– ${s}`);
