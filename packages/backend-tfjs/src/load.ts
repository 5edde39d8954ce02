import * as tf from '@tensorflow/tfjs';
import { InputError, UnsupportedError } from '@xlens/core';
import { fromTfjs } from './from-tfjs.js';
import type { FromTfjsOptions, TfjsModel } from './options.js';

const isUrl = (s: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(s) && !s.startsWith('file://');

function isGraphJson(json: tf.io.ModelJSON): boolean {
  const topology = json.modelTopology as { node?: unknown } | undefined;
  return json.format === 'graph-model' || Array.isArray(topology?.node);
}

/** Bytes of one weight entry of a manifest, from its dtype and shape. */
function weightBytes(w: tf.io.WeightsManifestEntry): number {
  const size = w.shape.reduce((a, b) => a * b, 1);
  // Quantized weights take one byte (uint8) or two (uint16, float16) per value; strings vary.
  if (w.quantization) return size * (w.quantization.dtype === 'uint8' ? 1 : 2);
  return w.dtype === 'string' ? Number.NaN : size * 4;
}

/**
 * A tfjs `IOHandler` that reads a `model.json` and its weight shards from the local file system
 * (Node only). tfjs's own `file://` handler lives in `@tensorflow/tfjs-node`, which this package
 * does not require. Safe against hostile manifests: only regular files are read (no `/dev/zero`),
 * shards must lie inside the model's folder once links, `..` and percent-escapes are resolved, and
 * their total size must match the weights the manifest declares before anything is assembled.
 */
export function tfjsFileHandler(path: string): tf.io.IOHandler {
  return {
    async load() {
      const p = await import('node:path');
      const { readFileChecked, realPathInside } = await import('@xlens/core/node');
      const file = path.startsWith('file://') ? new URL(path).pathname : path;
      const json = JSON.parse(new TextDecoder().decode(readFileChecked(file))) as tf.io.ModelJSON;
      const dir = p.dirname(file);
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: Uint8Array[] = [];
        for (const group of manifest) {
          for (const shard of group.paths)
            buffers.push(readFileChecked(realPathInside(dir, shard, 'weight shard')));
          specs.push(...group.weights);
        }
        const total = buffers.reduce((a, b) => a + b.byteLength, 0);
        const declared = specs.reduce((a, w) => a + weightBytes(w), 0);
        if (Number.isFinite(declared) && total < declared) {
          throw new InputError(
            'invalid-file',
            `the weight shards of ${file} hold ${total} bytes but its manifest declares ${declared}`,
          );
        }
        const data = new Uint8Array(total);
        let offset = 0;
        for (const b of buffers) {
          data.set(b, offset);
          offset += b.byteLength;
        }
        return [specs, data.buffer];
      });
    },
  };
}

/**
 * Load a tfjs `model.json` (Layers or Graph format, told apart by its content) and wrap it with
 * `fromTfjs`. A path or `file://` URL is read from disk (Node); an `http(s)://` URL is fetched.
 */
export async function loadTfjsModel(pathOrUrl: string, options: FromTfjsOptions = {}): Promise<TfjsModel> {
  if (typeof pathOrUrl !== 'string' || pathOrUrl.length === 0) {
    throw new InputError(
      'invalid-input',
      `loadTfjsModel expects the path or URL of a model.json; got ${JSON.stringify(pathOrUrl)}`,
    );
  }
  let handler: tf.io.IOHandler | string;
  let json: tf.io.ModelJSON;
  if (isUrl(pathOrUrl)) {
    const response = await fetch(pathOrUrl);
    if (!response.ok)
      throw new UnsupportedError('invalid-model', `could not fetch ${pathOrUrl}: HTTP ${response.status}`);
    json = (await response.json()) as tf.io.ModelJSON;
    handler = pathOrUrl;
  } else {
    const { readFileChecked } = await import('@xlens/core/node');
    const file = pathOrUrl.startsWith('file://') ? new URL(pathOrUrl).pathname : pathOrUrl;
    try {
      json = JSON.parse(new TextDecoder().decode(readFileChecked(file))) as tf.io.ModelJSON;
    } catch (cause) {
      throw new UnsupportedError(
        'invalid-model',
        `could not read a tfjs model.json at ${file}: ${(cause as Error).message}`,
        { cause },
      );
    }
    handler = tfjsFileHandler(file);
  }
  const model = isGraphJson(json) ? await tf.loadGraphModel(handler) : await tf.loadLayersModel(handler);
  return fromTfjs(model, options);
}
