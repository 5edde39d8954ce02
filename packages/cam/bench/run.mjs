// Benchmark of @xlens/cam on the tfjs WASM backend: each method's time as a multiple of one forward
// pass of the same model and batch (batch 1), for a small CNN (32×32) and a ResNet-18-shaped net
// (224×224). Run after building: `pnpm --filter @xlens/cam bench` (about 5–10 minutes).
//
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
import { fromTfjs, initTfjsBackend, loadTfjsModel } from '@xlens/backend-tfjs';
import { buildResNet18Like, buildSmallCnn } from '@xlens/backend-tfjs/testing';
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
      warmup: heavy && resnet ? 0 : 1,
      repeats: resnet ? (heavy ? 1 : 2) : 3,
    })),
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
