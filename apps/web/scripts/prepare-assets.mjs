// Copies what the app loads at run time into public/ (git-ignored): the zoo models (tfjs and ONNX)
// with sample images as PNG and an index.json, and the wasm binaries of tfjs-backend-wasm and
// onnxruntime-web. Vite then copies public/ into dist/, so the app needs no network beyond itself.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePng } from '@xlens/viz';
import { sampleImages, ZOO_MODEL_NAMES, zooModel } from '@xlens/zoo';

const app = fileURLToPath(new URL('..', import.meta.url));
const pub = join(app, 'public');
const require = createRequire(import.meta.url);

/** An NHWC [0, 1] image item as RGBA bytes (grey for one channel). */
function toRgba(images, index) {
  const [, h, w, c] = images.shape;
  const data = new Uint8ClampedArray(h * w * 4);
  const per = h * w * c;
  for (let p = 0; p < h * w; p++) {
    for (let k = 0; k < 3; k++)
      data[p * 4 + k] = Math.round(255 * images.data[index * per + p * c + (c === 1 ? 0 : k)]);
    data[p * 4 + 3] = 255;
  }
  return { width: w, height: h, data };
}

rmSync(join(pub, 'zoo'), { recursive: true, force: true });
const index = [];
for (const name of ZOO_MODEL_NAMES) {
  const zoo = zooModel(name);
  const out = join(pub, 'zoo', name);
  mkdirSync(join(out, 'samples'), { recursive: true });
  for (const f of ['model.json', 'weights.bin', 'model.onnx', 'labels.json', 'meta.json'])
    copyFileSync(join(zoo.dir, f), join(out, f));
  const samples = sampleImages(name, 6);
  const files = samples.names.map((n, i) => {
    writeFileSync(join(out, 'samples', `${n}.png`), encodePng(toRgba(samples.images, i)));
    return `${n}.png`;
  });
  index.push({
    name,
    description: zoo.meta.description,
    labels: zoo.labels,
    inputRange: zoo.meta.inputRange,
    camLayer: zoo.meta.camLayer,
    samples: files,
  });
}
writeFileSync(join(pub, 'zoo', 'index.json'), `${JSON.stringify(index, null, 1)}\n`);

const copyAll = (from, names, to) => {
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to, { recursive: true });
  for (const n of names) copyFileSync(join(from, n), join(to, n));
};
const tfjsWasm = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
copyAll(
  join(tfjsWasm, 'dist'),
  ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'],
  join(pub, 'wasm', 'tfjs'),
);
// onnxruntime-web exports its wasm files but not its package.json.
const ortDist = dirname(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm'));
const ortVersion = JSON.parse(readFileSync(join(ortDist, '..', 'package.json'), 'utf8')).version;
// The JSEP build serves both the wasm and the WebGPU execution providers.
copyAll(
  ortDist,
  ['ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm'],
  join(pub, 'wasm', 'ort'),
);
console.log(
  `prepared ${index.length} zoo models, tfjs-backend-wasm and onnxruntime-web ${ortVersion} wasm files in public/`,
);
