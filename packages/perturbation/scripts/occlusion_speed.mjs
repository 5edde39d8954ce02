// xlens side of scripts/captum_speed.py: times `occlusion` (window 32, stride 16, batchSize 16) on an
// ONNX model with ONNX Runtime and writes the last map as .npy. Run by captum_speed.py, after
// `pnpm --filter @xlens/perturbation build`:
//
//   node occlusion_speed.mjs MODEL.onnx INPUT.npy TARGET THREADS REPEATS OUT.npy
//
// Prints one JSON line: {"milliseconds": [...], "forwardMilliseconds": ...}.
import { readFileSync, writeFileSync } from 'node:fs';
import { fromOnnx } from '@xlens/backend-onnx';
import { parseNpy, serializeNpy } from '@xlens/core';
import { occlusion } from '../dist/index.js';

const [modelPath, inputPath, target, threads, repeats, outPath] = process.argv.slice(2);
const model = await fromOnnx(modelPath, { intraOpThreads: Number(threads) });
const x = parseNpy(readFileSync(inputPath), inputPath);
// Warm-up: ONNX Runtime allocates its arena for the batch size on first use.
await model.forward({ data: new Float32Array(16 * x.data.length), shape: [16, ...x.shape.slice(1)] });
let t = performance.now();
await model.forward(x);
const forwardMilliseconds = performance.now() - t;
const milliseconds = [];
let map;
for (let r = 0; r < Number(repeats); r++) {
  t = performance.now();
  map = (await occlusion.explain(model, x, Number(target), { window: 32, stride: 16, batchSize: 16 })).map;
  milliseconds.push(performance.now() - t);
}
writeFileSync(outPath, serializeNpy(map));
await model.dispose();
console.log(JSON.stringify({ milliseconds, forwardMilliseconds }));
