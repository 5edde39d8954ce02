import { type Model, OptionError } from '@xlens/core';
import { zooMaskerFor, zooMaskerPath } from '@xlens/zoo';
import type { MethodRequest } from './method-spec.js';
import { loadModel } from './model-source.js';

/**
 * Give every `real-time-saliency` request its masking model: `masker=path` (a tfjs `model.json`,
 * its folder or an `.onnx` file) is loaded; without one, a zoo classifier's own masker (the
 * `shapes-masker` for `shapes`) is. The method itself takes the loaded `Model` — it depends on
 * core only and reads no files. Maskers run on tfjs (wasm) unless given as ONNX files.
 */
export async function resolveMaskers(
  requests: readonly MethodRequest[],
  source: string,
): Promise<MethodRequest[]> {
  const cache = new Map<string, Model>();
  const load = async (path: string): Promise<Model> => {
    let model = cache.get(path);
    if (!model) {
      model = (await loadModel(path, { backend: path.endsWith('.onnx') ? 'onnx' : 'tfjs-wasm' })).model;
      cache.set(path, model);
    }
    return model;
  };
  const out: MethodRequest[] = [];
  for (const r of requests) {
    if (r.explainer.id !== 'real-time-saliency') {
      out.push(r);
      continue;
    }
    const given = r.options.masker;
    let path: string | undefined;
    if (typeof given === 'string') path = given;
    else if (given === undefined || given === null) {
      const zoo = source.startsWith('zoo:') ? zooMaskerFor(source.slice(4)) : undefined;
      if (zoo) path = zooMaskerPath(zoo);
    }
    if (path === undefined) {
      if (given === undefined || given === null)
        throw new OptionError(
          'invalid-option',
          `real-time-saliency needs a masking model trained for ${source}: give masker=path/model.json (the zoo has one for shapes)`,
        );
      out.push(r);
      continue;
    }
    out.push({ ...r, options: { ...r.options, masker: await load(path) } });
  }
  return out;
}
