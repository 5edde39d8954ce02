// Benchmark of @xlens/gradients on the tfjs WASM backend: each method's time as a multiple of one
// forward pass of the same model and batch (batch 1), for a small CNN (32×32) and a
// ResNet-18-shaped net (224×224). Run after building: `pnpm --filter @xlens/gradients bench`.
//
// The whole run is kept under a time budget (XLENS_BENCH_BUDGET_S, default 600 s): on the ResNet
// every method runs once (after one untimed gradient), cheapest first, and a method whose projected
// time (its backward passes × the cheapest measured time per pass) would overrun the budget is
// skipped and reported with its projection instead of being shrunk.
import * as tf from '@tensorflow/tfjs';
import { fromTfjs, initTfjsBackend } from '@xlens/backend-tfjs';
import { buildResNet18Like, buildSmallCnn } from '@xlens/backend-tfjs/testing';
import { markdownTable, timeIt } from '../../../scripts/bench-util.mjs';
import {
  deconvnet,
  fullgrad,
  fusiongrad,
  gradient,
  gradientXInput,
  guidedBackprop,
  integratedGradients,
  noisegrad,
  saliency,
  smoothgrad,
  vargrad,
} from '../dist/index.js';

const budgetMs = Number(process.env.XLENS_BENCH_BUDGET_S ?? 600) * 1000;
const started = performance.now();

// [row name, method, options, backward passes per item (for projections), no batchSize?]
const cases = [
  ['gradient', gradient, {}, 1],
  ['saliency', saliency, {}, 1],
  ['gradient-x-input', gradientXInput, {}, 1],
  ['guided-backprop', guidedBackprop, {}, 1],
  ['deconvnet', deconvnet, {}, 1],
  ['fullgrad', fullgrad, {}, 1],
  ['noisegrad (10 models)', noisegrad, { models: 10 }, 10],
  ['smoothgrad (25 samples)', smoothgrad, { samples: 25 }, 25],
  ['vargrad (25 samples)', vargrad, { samples: 25 }, 25],
  ['integrated-gradients (50 steps)', integratedGradients, { steps: 50 }, 50],
  // Without batchSize: core picks the rows per pass by timing them (ADR 0011).
  ['integrated-gradients (50 steps), measured batch size', integratedGradients, { steps: 50 }, 50, true],
  ['smoothgrad (25 samples), measured batch size', smoothgrad, { samples: 25 }, 25, true],
  ['fusiongrad (10 models × 10 samples)', fusiongrad, { models: 10, samples: 10 }, 100],
];

function randomInput(size) {
  const data = new Float32Array(size * size * 3);
  let s = 12345;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = s / 2 ** 32;
  }
  return { data, shape: [1, size, size, 3] };
}

async function column(title, tfModel, size, { warmup, repeats, batchSize }) {
  const model = fromTfjs(tfModel, { inputRange: [0, 1] });
  const x = randomInput(size);
  const tensorsBefore = tf.memory().numTensors;
  const fwd = await timeIt(() => model.forward(x), { warmup: 3, repeats: 15 });
  const rows = [{ name: 'forward', ms: fwd, ratio: 1 }];
  const skipped = [];
  // One untimed backward first, so the first timed method does not pay the backend's set-up.
  await gradient.explain(model, x, 0);
  let perPass = Number.POSITIVE_INFINITY; // cheapest measured ms per backward pass so far
  for (const [name, method, options, passes, measured] of cases) {
    const projected = passes * perPass * (warmup + repeats);
    if (Number.isFinite(perPass) && performance.now() - started + projected > budgetMs) {
      skipped.push(
        `${name} ≈ ${((passes * perPass) / fwd).toFixed(0)}× projected (${(projected / 1000).toFixed(0)} s)`,
      );
      continue;
    }
    const ms = await timeIt(
      () => method.explain(model, x, 0, measured ? options : { ...options, batchSize }),
      {
        warmup,
        repeats,
      },
    );
    perPass = Math.min(perPass, ms / passes);
    rows.push({ name, ms, ratio: ms / fwd });
    console.error(`${title}: ${name} ${ms.toFixed(0)} ms (${(ms / fwd).toFixed(1)}×)`);
  }
  const leaked = tf.memory().numTensors - tensorsBefore;
  await model.dispose();
  console.error(`${title}: forward ${fwd.toFixed(1)} ms, tensors leaked: ${leaked}`);
  return { title: `${title} (forward ${fwd.toFixed(1)} ms)`, rows, skipped };
}

const backend = await initTfjsBackend('wasm');
const columns = [
  await column('small CNN 32²', buildSmallCnn(), 32, { warmup: 2, repeats: 7, batchSize: 16 }),
  // 16 rows of 224² exhaust the WASM heap in the backward pass (tfjs 4.22), so the ResNet streams 4.
  await column('ResNet-18-like 224²', buildResNet18Like({ inputSize: 224 }), 224, {
    warmup: 0,
    repeats: 1,
    batchSize: 4,
  }),
];
const date = new Date().toISOString().slice(0, 10);
const total = ((performance.now() - started) / 1000).toFixed(0);
console.log(
  `tfjs ${tf.version.tfjs}, backend ${backend}, batch 1 (batchSize 16 / 4 rows per pass), ${date}, ${total} s in all\n`,
);
console.log(markdownTable(columns));
for (const c of columns)
  for (const s of c.skipped) console.log(`\n- ${c.title.split(' (')[0]}: skipped to stay in budget, ${s}`);
