import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { zooModelPath } from '../src/index.js';

/** A bundled zoo model as a plain tfjs LayersModel, read from its files (no fetch, no backend-tfjs). */
export async function loadTfjs(name: string): Promise<tf.LayersModel> {
  const file = zooModelPath(name, 'tfjs');
  const json = JSON.parse(readFileSync(file, 'utf8')) as tf.io.ModelJSON;
  const bin = readFileSync(join(dirname(file), json.weightsManifest[0].paths[0]));
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0].weights,
      weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    }),
  );
}
