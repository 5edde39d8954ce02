import * as tf from '@tensorflow/tfjs';
import { InputError, UnsupportedError } from '@xlens/core';
import { fromTfjs } from './from-tfjs.js';
import type { FromTfjsOptions, TfjsModel } from './options.js';

const isUrl = (s: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(s) && !s.startsWith('file://');

function isGraphJson(json: tf.io.ModelJSON): boolean {
  const topology = json.modelTopology as { node?: unknown } | undefined;
  return json.format === 'graph-model' || Array.isArray(topology?.node);
}

/**
 * A tfjs `IOHandler` that reads a `model.json` and its weight shards from the local file system
 * (Node only). tfjs's own `file://` handler lives in `@tensorflow/tfjs-node`, which this package
 * does not require.
 */
export function tfjsFileHandler(path: string): tf.io.IOHandler {
  return {
    async load() {
      const fs = await import('node:fs/promises');
      const p = await import('node:path');
      const file = path.startsWith('file://') ? new URL(path).pathname : path;
      const json = JSON.parse(await fs.readFile(file, 'utf8')) as tf.io.ModelJSON;
      const dir = p.dirname(file);
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: Uint8Array[] = [];
        for (const group of manifest) {
          for (const shard of group.paths)
            buffers.push(await fs.readFile(p.join(dir, decodeURIComponent(shard))));
          specs.push(...group.weights);
        }
        const total = buffers.reduce((a, b) => a + b.byteLength, 0);
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
    const fs = await import('node:fs/promises');
    const file = pathOrUrl.startsWith('file://') ? new URL(pathOrUrl).pathname : pathOrUrl;
    try {
      json = JSON.parse(await fs.readFile(file, 'utf8')) as tf.io.ModelJSON;
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
