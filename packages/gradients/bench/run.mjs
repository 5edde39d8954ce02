// Benchmark of @xlens/gradients on the tfjs WASM backend: each method's time as a multiple of one
// forward pass of the same model and batch (batch 1), for a small CNN (32×32) and a
// ResNet-18-shaped net (224×224). Run after building: `pnpm --filter @xlens/gradients bench`.
import * as tf from '@tensorflow/tfjs';
import { fromTfjs, initTfjsBackend } from '@xlens/backend-tfjs';
import { buildResNet18Like, buildSmallCnn } from '@xlens/backend-tfjs/testing';
import { markdownTable, ratioTable } from '../../../scripts/bench-util.mjs';
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

const cases = [
  ['gradient', gradient, {}],
  ['saliency', saliency, {}],
  ['gradient-x-input', gradientXInput, {}],
  ['integrated-gradients (50 steps)', integratedGradients, { steps: 50 }, 'heavy'],
  ['smoothgrad (25 samples)', smoothgrad, { samples: 25 }, 'heavy'],
  ['vargrad (25 samples)', vargrad, { samples: 25 }, 'heavy'],
  ['noisegrad (10 models)', noisegrad, { models: 10 }, 'heavy'],
  ['fusiongrad (10 models × 10 samples)', fusiongrad, { models: 10, samples: 10 }, 'heavy'],
  ['guided-backprop', guidedBackprop, {}],
  ['deconvnet', deconvnet, {}],
  ['fullgrad', fullgrad, {}],
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

async function column(title, tfModel, size, heavyRepeats) {
  const model = fromTfjs(tfModel, { inputRange: [0, 1] });
  const x = randomInput(size);
  const started = performance.now();
  const tensorsBefore = tf.memory().numTensors;
  const rows = await ratioTable(
    () => model.forward(x),
    cases.map(([name, method, options, heavy]) => ({
      name,
      run: () => method.explain(model, x, 0, options),
      warmup: heavy ? 0 : 1,
      repeats: heavy ? heavyRepeats : 3,
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
  await column('small CNN 32²', buildSmallCnn(), 32, 3),
  await column('ResNet-18-like 224²', buildResNet18Like({ inputSize: 224 }), 224, 1),
];
console.log(
  `tfjs ${tf.version.tfjs}, backend ${backend}, batch 1, ${new Date().toISOString().slice(0, 10)}\n`,
);
console.log(markdownTable(columns));
