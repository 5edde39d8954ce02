// Shared tfjs helpers for the zoo scripts: the wasm backend, a fast conv gradient, model IO.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

/** Select tfjs's wasm backend (tfjs-node is not available). */
export async function initTf() {
  await tf.setBackend('wasm');
  await tf.ready();
  return tf;
}

/**
 * A stride-1 'same' 3×3 (any odd k) conv whose gradients avoid the wasm backend's slow kernels:
 * tfjs-backend-wasm has no Conv2DBackpropFilter at all and a slow Conv2DBackpropInput. The input
 * gradient of a stride-1 conv is itself a conv (kernel rotated 180°, in/out channels swapped), which
 * wasm runs through XNNPACK; so is the filter gradient (see below), about 4× faster than an im2col
 * matrix product here.
 */
export function fastConv(x, w) {
  const f = tf.customGrad((input, kernel, save) => {
    save([input, kernel]);
    return {
      value: tf.conv2d(input, kernel, 1, 'same'),
      gradFunc: (dy, [xin, k]) => {
        const [kh, kw] = k.shape;
        const flipped = tf.transpose(tf.reverse(k, [0, 1]), [0, 1, 3, 2]);
        const dx = tf.conv2d(dy, flipped, 1, 'same');
        // Filter gradient as one more XNNPACK conv, with batch and channels swapped:
        // dW[i,j,ci,co] = Σ_{n,y,x} xpad[n,y+i,x+j,ci]·dy[n,y,x,co] is a 'valid' conv of
        // xpad viewed as [ci, y, x, n] with dy viewed as a [y, x, n, co] kernel.
        const ph = (kh - 1) / 2;
        const pw = (kw - 1) / 2;
        const padded = tf.pad(xin, [
          [0, 0],
          [ph, ph],
          [pw, pw],
          [0, 0],
        ]);
        const swapped = tf.conv2d(
          tf.transpose(padded, [3, 1, 2, 0]),
          tf.transpose(dy, [1, 2, 0, 3]),
          1,
          'valid',
        );
        const dw = tf.transpose(swapped, [1, 2, 0, 3]);
        return [dx, dw];
      },
    };
  });
  return f(x, w);
}

/** Write a LayersModel as `model.json` + `weights.bin` into `dir` (tfjs-node's file:// handler is absent). */
export async function saveLayersModel(model, dir) {
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const parts = Array.isArray(artifacts.weightData) ? artifacts.weightData : [artifacts.weightData];
      const bytes = Buffer.concat(parts.map((p) => Buffer.from(p)));
      writeFileSync(join(dir, 'weights.bin'), bytes);
      const json = {
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

/** Load a LayersModel saved by `saveLayersModel` from a directory. */
export async function loadLayersModel(dir) {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const bin = readFileSync(join(dir, json.weightsManifest[0].paths[0]));
  const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0].weights,
      weightData,
    }),
  );
}

/**
 * N(0, std²) weights from `rng.normal()` (Box–Muller), the draws the committed models were
 * initialised with; `fillNormal` switched to the ziggurat (ADR 0012) and would give other weights.
 */
export function fillBoxMuller(rng, out, std) {
  for (let i = 0; i < out.length; i++) out[i] = 0 + std * rng.normal();
  return out;
}
