// Benchmark of @xlens/synthesis on the zoo shapes model (64×64×3), tfjs wasm and ONNX Runtime:
// the time of one optimisation step (per image of a batch of 1 and of 6) as a multiple of one
// forward pass of the same model and batch, measured in the same run. A step is the method's
// backward pass(es) plus its JS work (parametrisation, transformations, priors, optimiser).
// Run after building: `pnpm --filter @xlens/synthesis bench`.
import { fromOnnx } from '@xlens/backend-onnx';
import { initTfjsBackend, loadTfjsModel } from '@xlens/backend-tfjs';
import { zooGeneratorPath, zooModelPath } from '@xlens/zoo';
import { markdownTable, timeIt } from '../../../scripts/bench-util.mjs';
import { activationMaximisation, classModel, dgnAm, inversion } from '../dist/index.js';

const STEPS = 8;
const cases = [
  [
    'activation-maximisation, pixel, class',
    activationMaximisation,
    { parametrization: 'pixel', jitter: 0, scales: [], rotate: 0 },
  ],
  ['activation-maximisation, default (fourier + transforms)', activationMaximisation, {}],
  ['activation-maximisation, channel:conv3:5', activationMaximisation, { objective: 'channel:conv3:5' }],
  ['activation-maximisation, layer:conv2 (deep dream)', activationMaximisation, { objective: 'layer:conv2' }],
  [
    'activation-maximisation, pixel + Yosinski operators',
    activationMaximisation,
    {
      parametrization: 'pixel',
      decay: 0.01,
      blurEvery: 4,
      normClip: 10,
      contributionClip: 10,
    },
  ],
  ['class-model', classModel, {}],
  ['inversion, conv3', inversion, { layer: 'conv3' }],
];

// Seeded noise rather than a flat image: ONNX Runtime runs a constant image several times faster,
// which would flatter its forward. The start of the optimisation is each method's `init` anyway.
function noise(n) {
  const data = new Float32Array(n * 64 * 64 * 3);
  let s = 12345;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = s / 2 ** 32;
  }
  return { data, shape: [n, 64, 64, 3] };
}

async function column(title, model, n, generator) {
  const x = noise(n);
  const targets = Array.from({ length: n }, (_, i) => i % 6);
  const forward = () => timeIt(() => model.forward(x), { warmup: 2, repeats: 9 });
  const fwd = await forward();
  const rows = [{ name: 'forward', ms: fwd, ratio: 1 }];
  const all = [...cases, ['dgn-am (zoo generator, tfjs)', dgnAm(generator), { codeRange: [0, 4] }]];
  for (const [name, method, options] of all) {
    const run = (steps) => () => method.explain(model, x, targets, { ...options, steps, batchSize: n });
    // One step's share: (STEPS steps − 1 step) / (STEPS − 1), so set-up and the final evaluation
    // drop out; the forward is re-measured next to each case, as the shared machine's load drifts.
    const before = await forward();
    const many = await timeIt(run(STEPS), { warmup: 1, repeats: 3 });
    const one = await timeIt(run(1), { warmup: 0, repeats: 3 });
    const after = await forward();
    const ms = (many - one) / (STEPS - 1);
    const unit = (before + after) / 2;
    rows.push({ name: `${name} (per step)`, ms, ratio: ms / unit });
    console.error(`${title}: ${name} ${ms.toFixed(1)} ms per step (${(ms / unit).toFixed(1)}×)`);
  }
  return { title: `${title} (forward ${fwd.toFixed(1)} ms)`, rows };
}

await initTfjsBackend('wasm');
const tfjs = await loadTfjsModel(zooModelPath('shapes', 'tfjs'), { inputRange: [0, 1] });
const onnx = await fromOnnx(zooModelPath('shapes', 'onnx'), { inputRange: [0, 1], intraOpThreads: 1 });
const generator = await loadTfjsModel(zooGeneratorPath());
const columns = [];
for (const n of [1, 6]) {
  columns.push(await column(`tfjs wasm, batch ${n}`, tfjs, n, generator));
  columns.push(await column(`ONNX Runtime, batch ${n}`, onnx, n, generator));
}
await generator.dispose();
await tfjs.dispose();
await onnx.dispose();
console.log(
  `zoo shapes 64×64×3, step time ÷ one forward of the same batch, ${new Date().toISOString().slice(0, 10)}\n`,
);
console.log(markdownTable(columns));
