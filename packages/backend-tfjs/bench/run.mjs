// Benchmarks of @xlens/backend-tfjs on the wasm backend: each case as a multiple of one forward
// pass of the same model and batch (see scripts/bench-util.mjs). Run after `npx tsc -b`:
//   node bench/run.mjs            (batch 1)
//   node bench/run.mjs 1 8        (batches 1 and 8)
import * as tf from '@tensorflow/tfjs';
import { markdownTable, ratioTable } from '../../../scripts/bench-util.mjs';
import { fromTfjs, initTfjsBackend } from '../dist/index.js';
import { linearVjp } from '../dist/ops/linear.js';
import { buildResNet18Like, buildSmallCnn } from '../dist/testing/index.js';

const batches = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
if (batches.length === 0) batches.push(1);
const backend = await initTfjsBackend('wasm');

function randomInput(n, size) {
  const data = new Float32Array(n * size * size * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 12.9898) * 0.5;
  return { data, shape: [n, size, size, 3] };
}

function oneHot(n, k) {
  const data = new Float32Array(n * k);
  for (let i = 0; i < n; i++) data[i * k + ((i * 7) % k)] = 1;
  return { data, shape: [n, k] };
}

async function modelColumns(title, build, captureLayer) {
  const columns = [];
  for (const n of batches) {
    const model = fromTfjs(build());
    const x = randomInput(n, 224);
    const seed = { kind: 'output', cotangent: oneHot(n, model.info.numClasses) };
    const rows = await ratioTable(
      () => model.forward(x),
      [
        { name: 'input gradient', run: () => model.backward({ input: x, seed }) },
        { name: 'guided backprop', run: () => model.backward({ input: x, seed, rules: { relu: 'guided' } }) },
        { name: `capture (${captureLayer})`, run: () => model.capture(x, [captureLayer]) },
        {
          name: `gradient + layer gradient (${captureLayer})`,
          run: () => model.backward({ input: x, seed, wrtLayers: [captureLayer], capture: [captureLayer] }),
        },
      ],
    );
    columns.push({ title: `${title}, batch ${n} (forward ${rows[0].ms.toFixed(0)} ms)`, rows });
    model.dispose();
  }
  return columns;
}

/**
 * Input gradients of single ResNet-18 convolutions, batch 1, by each route of `linearVjp` and by
 * tfjs's own Conv2DBackpropInput, as multiples of the layer's forward convolution. `auto` is the
 * route the backend takes.
 */
async function convGradient() {
  const layers = [
    { title: 'stem 7×7/2, 224²×3 → 64', x: [1, 224, 224, 3], w: [7, 7, 3, 64], stride: 2 },
    { title: '3×3, 56²×64 → 64', x: [1, 56, 56, 64], w: [3, 3, 64, 64], stride: 1 },
    { title: '3×3/2, 56²×64 → 128', x: [1, 56, 56, 64], w: [3, 3, 64, 128], stride: 2 },
    { title: '3×3, 7²×512 → 512', x: [1, 7, 7, 512], w: [3, 3, 512, 512], stride: 1 },
  ];
  const columns = [];
  for (const l of layers) {
    const x = tf.randomNormal(l.x, 0, 1, 'float32', 1);
    const w = tf.variable(tf.randomNormal(l.w, 0, 0.1, 'float32', 2));
    const g = { kind: 'conv', strides: [l.stride, l.stride], dilations: [1, 1], padding: 'same' };
    const y = tf.conv2d(x, w, l.stride, 'same');
    const dy = tf.randomNormal(y.shape, 0, 1, 'float32', 3);
    const run = (f) => async () => {
      const t = f();
      await t.data();
      t.dispose();
    };
    const rows = await ratioTable(
      run(() => tf.conv2d(x, w, l.stride, 'same')),
      [
        {
          name: 'tfjs Conv2DBackpropInput',
          run: run(() => tf.conv2dTranspose(dy, w, x.shape, l.stride, 'same')),
        },
        { name: 'rotated kernel', run: run(() => linearVjp(g, dy, w, x.shape, 'rotated')) },
        { name: 'stride phases', run: run(() => linearVjp(g, dy, w, x.shape, 'phases')) },
        { name: 'columns (col2im)', run: run(() => linearVjp(g, dy, w, x.shape, 'columns')) },
        { name: 'auto (used)', run: run(() => linearVjp(g, dy, w, x.shape)) },
      ],
    );
    columns.push({ title: l.title, rows });
    tf.dispose([x, w, y, dy]);
  }
  return columns;
}

console.log(`tfjs ${tf.version.tfjs}, backend ${backend}, ${new Date().toISOString().slice(0, 10)}\n`);
console.log(
  markdownTable(
    await modelColumns('small CNN 224²', () => buildSmallCnn({ inputSize: 224, numClasses: 10 }), 'conv3'),
    'case',
  ),
);
console.log();
console.log(
  markdownTable(
    await modelColumns('ResNet-18-like 224²', () => buildResNet18Like({ inputSize: 224 }), 'layer4_1_relu2'),
    'case',
  ),
);
console.log();
console.log(markdownTable(await convGradient(), 'input gradient of one conv'));
