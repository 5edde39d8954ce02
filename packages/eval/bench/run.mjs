// Benchmark of @xlens/eval on the tfjs WASM backend: each metric's time per item, evaluated on a
// batch of items at once (rows streamed in chunks of `batchSize`) and one item at a time, on the
// zoo's shapes model (64×64) and a ResNet-18-shaped net (224×224, random weights). Also as a
// multiple of one forward pass of one item. Run after building: `pnpm --filter @xlens/eval bench`.
//
// Maps are the input gradient (an inline explainer, so this package needs no method package);
// robustness metrics re-run that explainer. On the ResNet the perturbation metrics take fewer
// steps (see the second column of each table), and a metric whose projected time would overrun
// the budget (XLENS_BENCH_BUDGET_S, default 900 s) is skipped and reported instead of shrunk.
import { fromTfjs, initTfjsBackend, loadTfjsModel } from '@xlens/backend-tfjs';
import { buildResNet18Like } from '@xlens/backend-tfjs/testing';
import { createRng, defineExplainer, explain } from '@xlens/core';
import { sampleImages, zooModelPath } from '@xlens/zoo';
import { ratioTable, timeIt } from '../../../scripts/bench-util.mjs';
import { evalMetrics, sanityChecks } from '../dist/index.js';

const budgetMs = Number(process.env.XLENS_BENCH_BUDGET_S ?? 900) * 1000;
const started = performance.now();
const byId = Object.fromEntries(evalMetrics.map((m) => [m.id, m]));

const gradient = defineExplainer({
  id: 'bench-gradient',
  family: 'gradients',
  title: 'Gradient',
  citation: 'bench',
  description: 'input gradient',
  requires: ['gradients'],
  mapKind: 'input',
  defaults: {},
  options: {},
  async attribute(ctx) {
    return { map: (await ctx.gradient({ input: ctx.input })).inputGradient };
  },
});

// [metric id, options on shapes, options on the ResNet]
const cases = [
  ['pointing-game', {}, {}],
  ['relevance-rank', {}, {}],
  ['sparseness', {}, {}],
  ['complexity', {}, {}],
  ['ssim', {}, {}],
  ['hog', {}, {}],
  ['deletion', { steps: 64 }, { steps: 16 }],
  ['insertion', { steps: 64 }, { steps: 16 }],
  ['pixel-flipping', { steps: 64 }, { steps: 16 }],
  ['region-perturbation', { regionSize: 8, steps: 32 }, { regionSize: 28, steps: 16 }],
  ['selectivity', { patchSize: 8 }, { patchSize: 56 }],
  ['sensitivity-n', { sizes: [0.05, 0.2, 0.5], subsets: 20 }, { sizes: [0.05, 0.5], subsets: 8 }],
  ['infidelity', { samples: 32 }, { samples: 8 }],
  ['ssr-saliency', {}, {}],
  ['road', {}, { percentages: [0.2, 0.5, 0.8] }],
  ['max-sensitivity', { samples: 8 }, { samples: 2 }],
  ['local-lipschitz', { samples: 8 }, { samples: 2 }],
  ['continuity', { steps: 8 }, { steps: 2 }],
  ['hyperparameter-sensitivity', { seeds: [0, 1] }, { seeds: [0, 1] }],
];

const slice = (t, s, e) => {
  const per = t.data.length / t.shape[0];
  return { data: t.data.slice(s * per, e * per), shape: [e - s, ...t.shape.slice(1)] };
};

async function column(title, model, input, masks, { heavy, batchSize, repeats, warmup }) {
  const n = input.shape[0];
  const one = slice(input, 0, 1);
  const fwd = await timeIt(() => model.forward(one), { warmup: 2, repeats: 7 });
  const maps = (await explain(gradient, model, input, 'top1', { batchSize })).map;
  const rows = [];
  const skipped = [];
  let perUnit = 0; // slowest ms per item seen, for projections
  for (const [id, light, heavyOptions] of cases) {
    const metric = byId[id];
    const options = { ...(heavy ? heavyOptions : light), batchSize };
    const request = (s, e) => ({
      model,
      input: slice(input, s, e),
      target: 'top1',
      maps: slice(maps, s, e),
      reference: slice(maps, s, e),
      masks: slice(masks, s, e),
      explainer: gradient,
    });
    const projected = 2 * n * perUnit * (repeats + warmup);
    if (perUnit > 0 && performance.now() - started + projected > budgetMs) {
      skipped.push(`${id} (projected ${(projected / 1000).toFixed(0)} s)`);
      continue;
    }
    const batched = (await timeIt(() => metric.evaluate(request(0, n), options), { warmup, repeats })) / n;
    const single =
      (await timeIt(
        async () => {
          for (let i = 0; i < n; i++) await metric.evaluate(request(i, i + 1), options);
        },
        { warmup, repeats },
      )) / n;
    perUnit = Math.max(perUnit, single);
    const shown = Object.entries(heavy ? heavyOptions : light)
      .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(';') : v}`)
      .join(', ');
    rows.push({ id, shown, batched, single, fwd });
    console.error(
      `${title}: ${id} ${batched.toFixed(1)} ms/item batched, ${single.toFixed(1)} one at a time`,
    );
  }
  await model.dispose();
  return { title, fwd, n, batchSize, rows, skipped };
}

function table(c) {
  const lines = [
    `**${c.title}** — ${c.n} items, batchSize ${c.batchSize}, one forward of one item ${c.fwd.toFixed(1)} ms`,
    '',
    '| metric | options | ms / item, batched | ms / item, one at a time | batched speed-up | batched ÷ forward |',
    '|---|---|---:|---:|---:|---:|',
    ...c.rows.map(
      (r) =>
        `| ${r.id} | ${r.shown || '–'} | ${r.batched.toFixed(1)} | ${r.single.toFixed(1)} | ${(r.single / r.batched).toFixed(1)}× | ${(r.batched / r.fwd).toPrecision(2)}× |`,
    ),
  ];
  for (const s of c.skipped) lines.push(`\n- skipped to stay in budget: ${s}`);
  return lines.join('\n');
}

/**
 * The sanity checks on 4 shapes images with the inline gradient, each as a multiple of one forward
 * pass of the same 4-image batch. `XLENS_BENCH_ONLY=checks` runs only this part.
 */
async function checksTable() {
  const input = sampleImages('shapes', 4).images;
  const range = { inputRange: [0, 1] };
  const model = await loadTfjsModel(zooModelPath('shapes', 'tfjs'), range);
  const second = await loadTfjsModel(zooModelPath('shapes-shortcut', 'tfjs'), range);
  const byCheck = Object.fromEntries(sanityChecks.map((c) => [c.id, c]));
  const request = { model, input, explainer: gradient, secondModel: second };
  const cases = [
    ['model-randomisation', { modes: 'cascading' }],
    ['model-randomisation', { modes: 'both' }],
    ['data-randomisation', {}],
    ['input-invariance', {}],
    ['class-sensitivity', {}],
    ['fragility', {}],
  ].map(([id, options]) => ({
    name: `${id} ${
      Object.entries(options)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ') || '(defaults)'
    }`,
    run: () => byCheck[id].run(request, { ...options, batchSize: 16 }),
    warmup: 1,
    repeats: 2,
  }));
  const rows = await ratioTable(() => model.forward(input), cases);
  await model.dispose();
  await second.dispose();
  return [
    '**sanity checks**, 4 shapes images, gradient explainer, batchSize 16',
    '',
    '| check | ms | ÷ forward of the batch |',
    '|---|---:|---:|',
    ...rows.map((r) => `| ${r.name} | ${r.ms.toFixed(1)} | ${r.ratio.toPrecision(3)}× |`),
  ].join('\n');
}

const backend = await initTfjsBackend('wasm');
if (process.env.XLENS_BENCH_ONLY === 'checks') {
  console.log(`${await checksTable()}\n`);
  process.exit(0);
}
const samples = sampleImages('shapes', 8);
const shapes = await loadTfjsModel(zooModelPath('shapes', 'tfjs'), { inputRange: [0, 1] });
const columns = [
  await column('shapes 64²', shapes, samples.images, samples.masks, {
    heavy: false,
    batchSize: 16,
    repeats: 2,
  }),
];

const size = 224;
const resnetInput = {
  data: createRng(5).fillUniform(new Float32Array(4 * size * size * 3)),
  shape: [4, size, size, 3],
};
const box = new Float32Array(4 * size * size);
for (let i = 0; i < 4; i++)
  for (let y = 60; y < 160; y++)
    box.fill(1, i * size * size + y * size + 50, i * size * size + y * size + 170);
const resnet = fromTfjs(buildResNet18Like({ inputSize: size }), { inputRange: [0, 1] });
// 16 rows of 224² exhaust the WASM heap in the backward pass (tfjs 4.22), so the ResNet streams 4.
columns.push(
  await column(
    'ResNet-18-like 224²',
    resnet,
    resnetInput,
    { data: box, shape: [4, size, size] },
    {
      heavy: true,
      batchSize: 4,
      repeats: 1,
    },
  ),
);
const date = new Date().toISOString().slice(0, 10);
const total = ((performance.now() - started) / 1000).toFixed(0);
console.log(`tfjs wasm backend (${backend}), ${date}, ${total} s in all\n`);
for (const c of columns) console.log(`${table(c)}\n`);
console.log(`${await checksTable()}\n`);
