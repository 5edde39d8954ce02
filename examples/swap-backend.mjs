// The same zoo model on two backends: tfjs (wasm) and ONNX Runtime give the same attributions.
// Run: node examples/swap-backend.mjs   (--check exits non-zero when they differ)
import { fromOnnx } from '@xlens/backend-onnx';
import { initTfjsBackend, loadTfjsModel } from '@xlens/backend-tfjs';
import { camMethods } from '@xlens/cam';
import { Registry } from '@xlens/core';
import { gradientMethods } from '@xlens/gradients';
import { sampleImages, zooModelPath } from '@xlens/zoo';

await initTfjsBackend('wasm');
const onTfjs = await loadTfjsModel(zooModelPath('shapes', 'tfjs'), { inputRange: [0, 1] });
const onOnnx = await fromOnnx(zooModelPath('shapes', 'onnx'), { inputRange: [0, 1] });
const registry = new Registry([...gradientMethods, ...camMethods]);
const { images } = sampleImages('shapes', 3);

let worst = 0;
const runs = [
  ['gradient', {}],
  ['guided-backprop', {}],
  ['integrated-gradients', { steps: 16 }],
  ['grad-cam', {}],
  ['grad-cam-plus-plus', {}],
];
for (const [id, options] of runs) {
  const method = registry.get(id);
  const a = await method.explain(onTfjs, images, 'top1', options);
  const b = await method.explain(onOnnx, images, 'top1', options);
  // Relative L2 difference of the whole map: float32 rounding differs between runtimes, and
  // where a pre-activation sits within rounding of zero the two may take different ReLU branches.
  let squaredDiff = 0;
  let squaredNorm = 0;
  for (let i = 0; i < a.map.data.length; i++) {
    squaredDiff += (a.map.data[i] - b.map.data[i]) ** 2;
    squaredNorm += b.map.data[i] ** 2;
  }
  const relative = Math.sqrt(squaredDiff / (squaredNorm || 1));
  worst = Math.max(worst, relative);
  console.log(`${id.padEnd(22)} ‖tfjs − onnx‖ / ‖onnx‖ = ${relative.toExponential(2)}`);
}
await onTfjs.dispose();
await onOnnx.dispose();
if (process.argv.includes('--check') && worst > 1e-4) {
  console.error(`backends differ by ${worst.toExponential(2)} (allowed 1e-4)`);
  process.exit(1);
}
