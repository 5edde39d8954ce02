// Benchmark of @xlens/perturbation on the tfjs WASM backend: each method's time as a multiple of
// one forward pass of the same model and batch (batch 1), for a small CNN (32×32) and a
// ResNet-18-shaped net (224×224). Run after building: `pnpm --filter @xlens/perturbation bench`.
//
// Perturbation methods cost about (rows ÷ batchSize) batched forwards, so each row also says how
// many rows (model inputs) it sends. Each ratio is to a forward timed just before the method. The whole run is kept under a time budget
// (XLENS_BENCH_BUDGET_S, default 600 s): on the ResNet every method runs once, and a method whose
// projected time (its rows × the cheapest measured time per row) would overrun the budget is
// skipped and reported with its projection instead of being shrunk.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { fromOnnx } from '@xlens/backend-onnx';
import { fromTfjs, initTfjsBackend, loadTfjsModel } from '@xlens/backend-tfjs';
import { buildResNet18Like, buildSmallCnn } from '@xlens/backend-tfjs/testing';
import { markdownTable, timeIt } from '../../../scripts/bench-util.mjs';
import {
  extremalPerturbation,
  fgvis,
  kernelShap,
  lime,
  meaningfulPerturbation,
  occlusion,
  predictionDifference,
  realTimeSaliency,
  rise,
} from '../dist/index.js';

const budgetMs = Number(process.env.XLENS_BENCH_BUDGET_S ?? 600) * 1000;
const started = performance.now();

/** [row name (32² · 224² settings), method, options on 32², on 224², rows per item on 32², on 224²] */
const cases = [
  ['occlusion 4/2 · 32/16', occlusion, { window: 4, stride: 2 }, { window: 32, stride: 16 }, 225, 169],
  ['occlusion 8/4 · 56/28', occlusion, { window: 8, stride: 4 }, { window: 56, stride: 28 }, 49, 49],
  ['rise (500 · 200 masks)', rise, { masks: 500 }, { masks: 200 }, 500, 200],
  ['lime (250 · 100 samples, 50 segments)', lime, { samples: 250 }, { samples: 100 }, 250, 100],
  ['kernel-shap (250 · 100 samples, 50 segments)', kernelShap, { samples: 250 }, { samples: 100 }, 252, 102],
  [
    'prediction-difference (8/8 · 56/56, 4 samples, marginal)',
    predictionDifference,
    { window: 8, stride: 8, samples: 4 },
    { window: 56, stride: 56, samples: 4 },
    64,
    64,
  ],
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

async function column(title, tfModel, size, big, { warmup, repeats, batchSize }) {
  const model = fromTfjs(tfModel, { inputRange: [0, 1] });
  const x = randomInput(size);
  const tensorsBefore = tf.memory().numTensors;
  const fwd = await timeIt(() => model.forward(x), { warmup: 3, repeats: 15 });
  const rows = [{ name: 'forward', ms: fwd, ratio: 1 }];
  const skipped = [];
  // One untimed batched pass first, so the first timed method does not pay the backend's set-up.
  await occlusion.explain(model, x, 0, { window: size, batchSize });
  let perRow = Number.POSITIVE_INFINITY; // cheapest measured ms per row so far
  for (const [name, method, small, large, rowsSmall, rowsLarge] of cases) {
    const count = big ? rowsLarge : rowsSmall;
    const projected = count * perRow * (warmup + repeats);
    if (Number.isFinite(perRow) && performance.now() - started + projected > budgetMs) {
      skipped.push(
        `${name} ≈ ${((count * perRow) / fwd).toFixed(0)}× projected (${(projected / 1000).toFixed(0)} s)`,
      );
      continue;
    }
    const options = big ? large : small;
    // The forward is timed again next to each method: on a shared machine the load drifts over
    // the minutes a column takes, and a ratio to a forward timed minutes earlier drifts with it.
    const near = await timeIt(() => model.forward(x), { warmup: 1, repeats: 5 });
    const ms = await timeIt(() => method.explain(model, x, 0, { ...options, batchSize }), {
      warmup,
      repeats,
    });
    perRow = Math.min(perRow, ms / count);
    rows.push({ name: `${name} (${rowsSmall} · ${rowsLarge} rows)`, ms, ratio: ms / near });
    console.error(
      `${title}: ${name} ${ms.toFixed(0)} ms, ${(ms / count).toFixed(2)} ms/row, forward ${near.toFixed(1)} ms (${(ms / near).toFixed(1)}×)`,
    );
  }
  const leaked = tf.memory().numTensors - tensorsBefore;
  await model.dispose();
  console.error(`${title}: forward ${fwd.toFixed(1)} ms, tensors leaked: ${leaked}`);
  return { title: `${title} (forward ${fwd.toFixed(1)} ms)`, rows, skipped };
}

const backend = await initTfjsBackend('wasm');
// XLENS_BENCH_ONLY=masks runs only the mask-optimisation table below.
const onlyMasks = process.env.XLENS_BENCH_ONLY === 'masks';
const columns = onlyMasks
  ? []
  : [
      await column('small CNN 32²', buildSmallCnn(), 32, false, { warmup: 1, repeats: 3, batchSize: 16 }),
      await column('ResNet-18-like 224²', buildResNet18Like({ inputSize: 224 }), 224, true, {
        warmup: 0,
        repeats: 1,
        batchSize: 16,
      }),
    ];
const date = new Date().toISOString().slice(0, 10);
const total = ((performance.now() - started) / 1000).toFixed(0);
console.log(
  `tfjs ${tf.version.tfjs}, backend ${backend}, batch 1, batchSize 16, ${date}, ${total} s in all\n`,
);
if (!onlyMasks) console.log(markdownTable(columns));
for (const c of columns)
  for (const s of c.skipped) console.log(`\n- ${c.title.split(' (')[0]}: skipped to stay in budget, ${s}`);

// Mask optimisation on the zoo shapes model (64², batch 1) on both backends: the time of one
// optimisation step as a multiple of one forward pass of the same model and input (a step is a
// forward and a backward pass plus the mask update; FGVis's filter adds one backward per ReLU
// layer), and real-time saliency's one masker pass (tfjs) as a multiple of the classifier's forward.
const zoo = fileURLToPath(new URL('../../zoo/models/', import.meta.url));
if (existsSync(`${zoo}shapes/model.onnx`)) {
  const x = { ...randomInput(64) };
  const masker = existsSync(`${zoo}shapes-masker/model.json`)
    ? await loadTfjsModel(`${zoo}shapes-masker/model.json`, { name: 'shapes-masker' })
    : undefined;
  const steps = 20;
  const optimisers = [
    ['meaningful-perturbation (deletion, 16² cells)', meaningfulPerturbation, { steps }],
    ['extremal-perturbation (1 area)', extremalPerturbation, { steps, areas: [0.1] }],
    ['fgvis (filter at 4 ReLU layers)', fgvis, { steps: steps / 2 }],
    ['fgvis (no filter)', fgvis, { steps, filter: false }],
  ];
  const maskColumns = [];
  for (const [title, load] of [
    ['zoo shapes 64², tfjs', () => loadTfjsModel(`${zoo}shapes/model.json`, { inputRange: [0, 1] })],
    [
      'zoo shapes 64², onnx',
      () => fromOnnx(`${zoo}shapes/model.onnx`, { inputRange: [0, 1], intraOpThreads: 1 }),
    ],
  ]) {
    const model = await load();
    const fwd = await timeIt(() => model.forward(x), { warmup: 3, repeats: 15 });
    const rows = [{ name: 'forward', ms: fwd, ratio: 1 }];
    // The floor of a step: one forward + backward to the input, as the backend runs it.
    const seed = {
      kind: 'output',
      cotangent: { data: Float32Array.from([1, 0, 0, 0, 0, 0]), shape: [1, 6] },
    };
    const grad = await timeIt(() => model.backward({ input: x, seed }), { warmup: 2, repeats: 10 });
    const nearGrad = await timeIt(() => model.forward(x), { warmup: 1, repeats: 5 });
    rows.push({ name: 'one input gradient (backend backward)', ms: grad, ratio: grad / nearGrad });
    for (const [name, method, options] of optimisers) {
      const near = await timeIt(() => model.forward(x), { warmup: 1, repeats: 5 });
      const ms = await timeIt(() => method.explain(model, x, 0, options), { warmup: 1, repeats: 2 });
      const perStep = ms / options.steps;
      rows.push({ name: `${name}, per step`, ms: perStep, ratio: perStep / near });
      console.error(
        `${title}: ${name} ${perStep.toFixed(1)} ms per step (${(1000 / perStep).toFixed(1)} steps/s), forward ${near.toFixed(2)} ms (${(perStep / near).toFixed(1)}×)`,
      );
    }
    if (masker) {
      const near = await timeIt(() => model.forward(x), { warmup: 1, repeats: 5 });
      const ms = await timeIt(() => realTimeSaliency.explain(model, x, 0, { masker }), {
        warmup: 2,
        repeats: 10,
      });
      rows.push({ name: 'real-time-saliency (one masker pass, tfjs)', ms, ratio: ms / near });
    }
    maskColumns.push({ title: `${title} (forward ${fwd.toFixed(2)} ms)`, rows });
    await model.dispose();
  }
  if (masker) await masker.dispose();
  console.log('\nMask optimisation: one step ÷ one forward (batch 1)\n');
  console.log(markdownTable(maskColumns));
} else console.log('\n- zoo shapes model not found (packages/zoo/models/shapes): no mask optimisation table');
