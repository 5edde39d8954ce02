// Benchmark of @xlens/perturbation on the tfjs WASM backend: each method's time as a multiple of
// one forward pass of the same model and batch (batch 1), for a small CNN (32×32) and a
// ResNet-18-shaped net (224×224). Run after building: `pnpm --filter @xlens/perturbation bench`.
//
// Perturbation methods cost about (rows ÷ batchSize) batched forwards, so each row also says how
// many rows (model inputs) it sends. Each ratio is to a forward timed just before the method. The whole run is kept under a time budget
// (XLENS_BENCH_BUDGET_S, default 600 s): on the ResNet every method runs once, and a method whose
// projected time (its rows × the cheapest measured time per row) would overrun the budget is
// skipped and reported with its projection instead of being shrunk.
import * as tf from '@tensorflow/tfjs';
import { fromTfjs, initTfjsBackend } from '@xlens/backend-tfjs';
import { buildResNet18Like, buildSmallCnn } from '@xlens/backend-tfjs/testing';
import { markdownTable, timeIt } from '../../../scripts/bench-util.mjs';
import { kernelShap, lime, occlusion, predictionDifference, rise } from '../dist/index.js';

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
const columns = [
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
console.log(markdownTable(columns));
for (const c of columns)
  for (const s of c.skipped) console.log(`\n- ${c.title.split(' (')[0]}: skipped to stay in budget, ${s}`);
