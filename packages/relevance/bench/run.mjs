// Benchmark of @xlens/relevance: each method's time as a multiple of one forward pass of the same
// model and batch (batch 1), on the tfjs WASM backend (a small CNN at 32×32 and a ResNet-18-shaped
// net with BatchNorm and residual additions at 224×224) and on the ONNX Runtime backend (the
// backend's torch-exported ResNet-18 and MobileNetV2 fixtures, 32×32, reduced width).
// Run after building: `pnpm --filter @xlens/relevance bench` (or `node bench/run.mjs [--quick]`).
import * as tf from '@tensorflow/tfjs';
import { fromOnnx } from '@xlens/backend-onnx';
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

/** One plain backward pass, for scale: the rules' cost is what LRP adds to it. */
function gradientCase(model, x) {
  const cotangent = { data: new Float32Array(model.info.numClasses), shape: [1, model.info.numClasses] };
  cotangent.data[0] = 1;
  return {
    name: 'gradient (one plain backward)',
    run: () => model.backward({ input: x, seed: { kind: 'output', cotangent } }),
  };
}

function randomInput(model, n = 1, seed = 12345) {
  const shape = [n, ...model.info.inputShape];
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = s / 2 ** 32;
  }
  return { data, shape };
}

async function column(title, model, repeats, { countTensors = false } = {}) {
  const x = randomInput(model);
  const started = performance.now();
  const fitStart = performance.now();
  const patterns = await fitPatterns(model, randomInput(model, 2, 777));
  const fitMs = performance.now() - fitStart;
  const tensorsBefore = countTensors ? tf.memory().numTensors : 0;
  const rows = await ratioTable(
    () => model.forward(x),
    [
      { ...gradientCase(model, x), repeats },
      ...cases(patterns).map(([name, method, options]) => ({
        name,
        run: () => method.explain(model, x, 0, options),
        warmup: 1,
        repeats,
      })),
    ],
  );
  // Pattern fitting (conv geometry probes, one capture pass, the moment sums) on 2 items, against
  // the same run's forward pass of 1 item.
  rows.push({ name: 'fitPatterns (2 items)', ms: fitMs, ratio: fitMs / rows[0].ms });
  const leaked = countTensors ? `, tensors leaked: ${tf.memory().numTensors - tensorsBefore}` : '';
  await model.dispose();
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  console.error(
    `${title}: forward ${rows[0].ms.toFixed(1)} ms, fitting patterns on 2 items ${(fitMs / 1000).toFixed(1)} s, ${seconds} s in all${leaked}`,
  );
  return { title: `${title} (forward ${rows[0].ms.toFixed(1)} ms)`, rows };
}

const fixture = (name) => new URL(`../../backend-onnx/test/fixtures/${name}.onnx`, import.meta.url).pathname;
const backend = await initTfjsBackend('wasm');
const tfjsOptions = { inputRange: [0, 1] };
const columns = [
  await column('tfjs small CNN 32²', fromTfjs(buildSmallCnn(), tfjsOptions), 7, { countTensors: true }),
];
columns.push(
  await column('ONNX ResNet-18 fixture 32²', await fromOnnx(fixture('resnet18'), { inputRange: [0, 1] }), 7),
);
if (!quick) {
  columns.push(
    await column(
      'ONNX MobileNetV2 fixture 32²',
      await fromOnnx(fixture('mobilenet_v2'), { inputRange: [0, 1] }),
      7,
    ),
  );
  columns.push(
    await column(
      'tfjs ResNet-18-like 224²',
      fromTfjs(buildResNet18Like({ inputSize: 224 }), tfjsOptions),
      1,
      { countTensors: true },
    ),
  );
}
console.log(
  `tfjs ${tf.version.tfjs} (${backend}), onnxruntime-node, batch 1, ${new Date().toISOString().slice(0, 10)}\n`,
);
console.log(markdownTable(columns));
