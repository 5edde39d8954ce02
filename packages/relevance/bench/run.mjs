// Benchmark of @xlens/relevance on the tfjs WASM backend: each method's time as a multiple of one
// forward pass of the same model and batch (batch 1), for a small CNN (32×32) and a
// ResNet-18-shaped net with BatchNorm and residual additions (224×224).
// Run after building: `pnpm --filter @xlens/relevance bench` (or `node bench/run.mjs`).
import * as tf from '@tensorflow/tfjs';
import { fromTfjs, initTfjsBackend } from '@xlens/backend-tfjs';
import { buildResNet18Like, buildSmallCnn } from '@xlens/backend-tfjs/testing';
import { markdownTable, ratioTable } from '../../../scripts/bench-util.mjs';
import {
  clrp,
  deeplift,
  deepTaylor,
  fitPatterns,
  lrp,
  patternAttribution,
  patternnet,
  sglrp,
} from '../dist/index.js';

const quick = process.argv.includes('--quick');

const cases = (patterns) => [
  ['lrp epsilon-plus', lrp, { composite: 'epsilon-plus' }],
  ['lrp epsilon-plus-flat', lrp, { composite: 'epsilon-plus-flat' }],
  ['lrp epsilon-gamma-box', lrp, { composite: 'epsilon-gamma-box' }],
  ['lrp epsilon-alpha2-beta1', lrp, { composite: 'epsilon-alpha2-beta1' }],
  ['lrp epsilon-alpha2-beta1-flat', lrp, { composite: 'epsilon-alpha2-beta1-flat' }],
  ['clrp (2 backward passes)', clrp, {}],
  ['sglrp', sglrp, {}],
  ['deep-taylor', deepTaylor, {}],
  ['deeplift (zero reference)', deeplift, {}],
  ['deeplift (blur reference)', deeplift, { baseline: 'blur' }],
  ['patternnet (patterns given)', patternnet, { patterns }],
  ['pattern-attribution (patterns given)', patternAttribution, { patterns }],
];

function randomInput(size, n = 1, seed = 12345) {
  const data = new Float32Array(n * size * size * 3);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = s / 2 ** 32;
  }
  return { data, shape: [n, size, size, 3] };
}

async function column(title, tfModel, size, repeats) {
  const model = fromTfjs(tfModel, { inputRange: [0, 1] });
  const x = randomInput(size);
  const started = performance.now();
  const fitStart = performance.now();
  const patterns = await fitPatterns(model, randomInput(size, 2, 777));
  const fitMs = performance.now() - fitStart;
  const tensorsBefore = tf.memory().numTensors;
  const rows = await ratioTable(
    () => model.forward(x),
    cases(patterns).map(([name, method, options]) => ({
      name,
      run: () => method.explain(model, x, 0, options),
      warmup: 1,
      repeats,
    })),
  );
  const leaked = tf.memory().numTensors - tensorsBefore;
  await model.dispose();
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  console.error(
    `${title}: forward ${rows[0].ms.toFixed(1)} ms, pattern fitting on 2 items ${(fitMs / 1000).toFixed(1)} s, ${seconds} s in all, tensors leaked: ${leaked}`,
  );
  return { title: `${title} (forward ${rows[0].ms.toFixed(1)} ms)`, rows };
}

const backend = await initTfjsBackend('wasm');
const columns = [await column('small CNN 32²', buildSmallCnn(), 32, 3)];
if (!quick) columns.push(await column('ResNet-18-like 224²', buildResNet18Like({ inputSize: 224 }), 224, 1));
console.log(
  `tfjs ${tf.version.tfjs}, backend ${backend}, batch 1, ${new Date().toISOString().slice(0, 10)}\n`,
);
console.log(markdownTable(columns));
