// Benchmark of @xlens/backend-onnx: forward, Saliency (input gradient + max |·| over channels),
// Integrated Gradients (50 steps) and SmoothGrad (25 samples) on a ResNet-18-shaped model at
// 224×224, each as a multiple of one forward pass of the same model and batch (batch 1 and 8).
// With @xlens/backend-tfjs built, the same loops run on the tfjs wasm backend for comparison.
// Then (bench/methods.mjs) every method on full-width torchvision-layout ResNet-18, MobileNetV2 and
// DenseNet-121, warm, and the cold first call with the session cache filled (ResNet-18).
// Run after building: `pnpm --filter @xlens/backend-onnx bench` (`… bench onnx` / `tfjs` / `methods`
// for one part).
import { markdownTable, ratioTable } from '../../../scripts/bench-util.mjs';
import { fromOnnx } from '../dist/index.js';
import { measureModel, methodsTables } from './methods.mjs';
import { resnet18Onnx } from './resnet18.mjs';
import { torchvisionModels } from './torchvision.mjs';

const size = 224;

function uniform(count, seed) {
  const data = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = s / 2 ** 32;
  }
  return data;
}

function oneHot(n, k, c) {
  const data = new Float32Array(n * k);
  for (let i = 0; i < n; i++) data[i * k + c] = 1;
  return { data, shape: [n, k] };
}

/** Input gradients of `items` (a function giving item j of the expanded batch), streamed in chunks. */
async function streamGradients(model, total, item, itemSize, target, chunk) {
  const k = model.info.numClasses;
  const sum = new Float32Array(itemSize);
  for (let s = 0; s < total; s += chunk) {
    const n = Math.min(chunk, total - s);
    const data = new Float32Array(n * itemSize);
    for (let j = 0; j < n; j++) data.set(item(s + j), j * itemSize);
    const { inputGradient } = await model.backward({
      input: { data, shape: [n, ...model.info.inputShape] },
      seed: { kind: 'output', cotangent: oneHot(n, k, target) },
    });
    for (let i = 0; i < inputGradient.data.length; i++) sum[i % itemSize] += inputGradient.data[i];
  }
  return sum;
}

function saliencyMap(gradient, n, shape, layout) {
  const [c, h, w] = layout === 'NCHW' ? shape : [shape[2], shape[0], shape[1]];
  const out = new Float32Array(n * h * w);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let p = 0; p < h * w; p++) {
        const i = layout === 'NCHW' ? (b * c + ch) * h * w + p : (b * h * w + p) * c + ch;
        out[b * h * w + p] = Math.max(out[b * h * w + p], Math.abs(gradient[i]));
      }
  return out;
}

async function column(title, model, batch, heavyRepeats, chunk) {
  const itemSize = model.info.inputShape.reduce((a, b) => a * b, 1);
  const x = { data: uniform(batch * itemSize, 7), shape: [batch, ...model.info.inputShape] };
  const k = model.info.numClasses;
  const target = 3;
  const perItem = (fn) => async () => {
    for (let b = 0; b < batch; b++) await fn(x.data.subarray(b * itemSize, (b + 1) * itemSize));
  };
  const rows = await ratioTable(
    () => model.forward(x),
    [
      {
        name: 'saliency',
        run: async () => {
          const { inputGradient } = await model.backward({
            input: x,
            seed: { kind: 'output', cotangent: oneHot(batch, k, target) },
          });
          saliencyMap(inputGradient.data, batch, model.info.inputShape, model.info.layout);
        },
      },
      {
        name: 'integrated-gradients (50 steps)',
        run: perItem((item) =>
          streamGradients(model, 50, (j) => item.map((v) => (v * (j + 0.5)) / 50), itemSize, target, chunk),
        ),
        warmup: 0,
        repeats: heavyRepeats,
      },
      {
        name: 'smoothgrad (25 samples)',
        run: perItem((item) => {
          const noise = uniform(25 * itemSize, 11);
          return streamGradients(
            model,
            25,
            (j) => item.map((v, i) => v + 0.15 * (noise[j * itemSize + i] - 0.5)),
            itemSize,
            target,
            chunk,
          );
        }),
        warmup: 0,
        repeats: heavyRepeats,
      },
    ],
  );
  console.error(`${title}: forward ${rows[0].ms.toFixed(1)} ms`);
  return { title: `${title} (forward ${rows[0].ms.toFixed(1)} ms)`, rows };
}

const columns = [];
const only = process.argv[2]; // 'onnx', 'tfjs' or 'methods' to run one part
if (only === undefined || only === 'onnx') {
  const onnx = await fromOnnx(resnet18Onnx(size), { name: 'resnet18-like' });
  for (const batch of [1, 8]) columns.push(await column(`onnx batch ${batch}`, onnx, batch, 1, 16));
  await onnx.dispose();
}

let tfjsNote = 'tfjs column skipped';
if (only === undefined || only === 'tfjs')
  try {
    const { fromTfjs, initTfjsBackend } = await import('@xlens/backend-tfjs');
    const { buildResNet18Like } = await import('@xlens/backend-tfjs/testing');
    const backend = await initTfjsBackend('wasm');
    const model = fromTfjs(buildResNet18Like({ inputSize: size }), { name: 'resnet18-like' });
    // Chunks of 4: tfjs-wasm's Pad kernel traps on the 16-item chunks of a 224² ResNet backward.
    columns.push(await column(`tfjs ${backend} batch 1`, model, 1, 1, 4));
    await model.dispose();
    tfjsNote = `tfjs ${backend}: batch 1 only (batch 8 with IG-50 takes tens of minutes there)`;
  } catch (error) {
    tfjsNote += ` (${error.message.split('\n')[0]})`;
    console.error(error);
  }
if (columns.length) {
  console.log(
    `ResNet-18-shaped model, ${size}×${size}, onnxruntime-node, ${new Date().toISOString().slice(0, 10)}; ${tfjsNote}\n`,
  );
  console.log(markdownTable(columns));
}

if (only === undefined || only === 'methods') {
  const results = [];
  for (const [name, build] of Object.entries(torchvisionModels)) {
    results.push(
      await measureModel(name, build(size), {
        cold: name === 'resnet18',
        log: (line) => console.error(line),
      }),
    );
  }
  console.log(
    `\nTorchvision-layout models (random weights), ${size}×${size}, batch 1, 2 intra-op threads: method time ÷ one forward; cold = fresh process, fromOnnx(path) to the first map\n`,
  );
  console.log(methodsTables(results));
}
