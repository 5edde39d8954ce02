// Writes the GraphModel twin of a tfjs LayersModel: the `graph-model` (model.json + weights.bin)
// tfjs-converter would make of it from a TF2 SavedModel, with the same weights (see
// `graphModelTwin` in `@xlens/backend-tfjs/testing`). Needs a build (`pnpm build`).
//
//   node packages/backend-tfjs/scripts/graph-twin.mjs path/to/model.json out-dir [--plain] [--fold-batchnorm]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initTfjsBackend, tfjsFileHandler } from '../dist/index.js';
import { graphModelTwin } from '../dist/testing/index.js';

const [source, out] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (!source || !out) {
  console.error('usage: graph-twin.mjs model.json out-dir [--plain] [--fold-batchnorm]');
  process.exit(2);
}
await initTfjsBackend('wasm');
const model = await tf.loadLayersModel(tfjsFileHandler(source));
const artifacts = await graphModelTwin(model, {
  fuse: !process.argv.includes('--plain'),
  foldBatchNorm: process.argv.includes('--fold-batchnorm'),
});
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'weights.bin'), new Uint8Array(artifacts.weightData));
const { weightData: _, weightSpecs, ...rest } = artifacts;
writeFileSync(
  join(out, 'model.json'),
  JSON.stringify({ ...rest, weightsManifest: [{ paths: ['weights.bin'], weights: weightSpecs }] }),
);
console.log(`wrote ${join(out, 'model.json')} (${artifacts.modelTopology.node.length} nodes)`);
