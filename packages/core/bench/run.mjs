// Benchmark of @xlens/core: the cost of explain() around a method (validation, target
// resolution, chunking) and of the reference model's backward rules, each as a multiple of one
// forward pass of the same reference model and batch. The reference model is the pure-JS float64
// oracle, so absolute times say nothing about real backends; the ratios show core's overhead.
// Run after building: `pnpm --filter @xlens/core bench`.

import { markdownTable, ratioTable } from '../../../scripts/bench-util.mjs';
import { defineExplainer } from '../dist/index.js';
import { conformanceCases, randomInput, referenceModel, tinyCnn } from '../dist/testing/index.js';

const gradientMethod = defineExplainer({
  id: 'bench-gradient',
  family: 'gradients',
  title: 'Gradient',
  citation: 'Simonyan et al., 2014, arXiv:1312.6034',
  description: 'the input gradient',
  requires: ['gradients'],
  mapKind: 'input',
  defaults: {},
  options: {},
  async attribute(ctx) {
    return { map: (await ctx.gradient({ input: ctx.input })).inputGradient };
  },
});

const spec = tinyCnn();
const model = referenceModel(spec);
const epsilon = { kind: 'epsilon', epsilon: 0.01 };
const lrp = { conv1: epsilon, conv2: epsilon, fc: epsilon };

async function column(batch) {
  const x = randomInput(model, batch, 1);
  const seed = {
    kind: 'output',
    cotangent: { data: new Float32Array(batch * 5).fill(0.2), shape: [batch, 5] },
  };
  const cases = [
    { name: 'backward (gradient)', run: () => model.backward({ input: x, seed }) },
    { name: 'explain(gradient), class target', run: () => gradientMethod.explain(model, x, 1) },
    { name: 'explain(gradient), top1', run: () => gradientMethod.explain(model, x, 'top1') },
    {
      name: 'explain(gradient), batchSize 1',
      run: () => gradientMethod.explain(model, x, 1, { batchSize: 1 }),
    },
    {
      name: 'backward, relu guided',
      run: () => model.backward({ input: x, seed, rules: { relu: 'guided' } }),
    },
    {
      name: 'backward, LRP epsilon + relevance',
      run: () => model.backward({ input: x, seed, rules: { linear: lrp }, relevance: true }),
    },
    {
      name: 'backward, alpha-beta 2,1',
      run: () =>
        model.backward({
          input: x,
          seed,
          rules: { linear: { conv1: { kind: 'alpha-beta', alpha: 2, beta: 1 }, conv2: epsilon } },
        }),
    },
  ];
  // Warm every path up first: the JIT otherwise makes whichever case runs first look slow.
  for (let i = 0; i < 20; i++) for (const c of cases) await c.run();
  return ratioTable(
    () => model.forward(x),
    cases.map((c) => ({ ...c, warmup: 3, repeats: 15 })),
    { forwardRepeats: 31 },
  );
}

const columns = [];
for (const batch of [1, 16])
  columns.push({ title: `tiny-cnn 3×8×8, batch ${batch}`, rows: await column(batch) });
console.log(markdownTable(columns, 'operation (reference model)'));

const started = performance.now();
const cases = conformanceCases();
for (const c of cases) await c.check(referenceModel(c.spec), referenceModel(c.spec));
console.log(
  `\n${cases.length} conformance cases, reference against itself: ${(performance.now() - started).toFixed(0)} ms`,
);
