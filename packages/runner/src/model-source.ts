import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { InputError, type Model } from '@xlens/core';
import { isZooModel, zooModel } from '@xlens/zoo';
import type { ModelRef } from './plan.js';

/** The files that make up a model, and how to load it. */
interface ModelFiles {
  readonly format: 'tfjs' | 'onnx';
  /** The file to load (`model.json` or `.onnx`). */
  readonly entry: string;
  /** Every file whose bytes define the model (model.json and its weight files). */
  readonly files: readonly string[];
  readonly name: string;
  readonly labels?: readonly string[];
  readonly inputRange?: Model['info']['inputRange'];
}

function resolveModel(ref: ModelRef): ModelFiles {
  if (isZooModel(ref.ref)) {
    const zoo = zooModel(ref.ref);
    const onnx = ref.backend === 'onnx';
    const entry = onnx ? zoo.onnx : zoo.tfjs;
    return {
      format: onnx ? 'onnx' : 'tfjs',
      entry,
      files: onnx ? [entry] : tfjsFiles(entry),
      name: zoo.name,
      labels: zoo.labels,
      inputRange: zoo.meta.inputRange,
    };
  }
  let path = ref.ref;
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new InputError(
      'invalid-input',
      `model ${ref.ref} not found (give a zoo name, a tfjs model.json or its folder, or an .onnx file)`,
    );
  }
  if (isDir) path = join(path, 'model.json');
  const ext = extname(path).toLowerCase();
  if (ext === '.onnx') {
    if (ref.backend !== undefined && ref.backend !== 'onnx')
      throw new InputError('invalid-input', `model ${ref.ref} is an ONNX file: use the onnx backend`);
    return {
      format: 'onnx',
      entry: path,
      files: [path],
      name: path
        .split(/[\\/]/)
        .at(-1)!
        .replace(/\.onnx$/i, ''),
    };
  }
  if (ext === '.json') {
    if (ref.backend === 'onnx')
      throw new InputError('invalid-input', `model ${ref.ref} is a tfjs model: not for onnx`);
    return {
      format: 'tfjs',
      entry: path,
      files: tfjsFiles(path),
      name: path.split(/[\\/]/).at(-2) ?? 'model',
    };
  }
  throw new InputError('invalid-input', `model ${ref.ref} is neither a tfjs model.json nor an .onnx file`);
}

/** model.json and the weight files its manifest names. */
function tfjsFiles(modelJson: string): string[] {
  let manifest: { weightsManifest?: { paths?: string[] }[] };
  try {
    manifest = JSON.parse(readFileSync(modelJson, 'utf8'));
  } catch (e) {
    throw new InputError('invalid-input', `cannot read tfjs model ${modelJson}: ${(e as Error).message}`);
  }
  const paths = (manifest.weightsManifest ?? []).flatMap((g) => g.paths ?? []);
  return [modelJson, ...paths.map((p) => join(dirname(modelJson), p))];
}

/** SHA-256 over the model's files (names and bytes): what every worker must read identically. */
export function modelFingerprint(ref: ModelRef): string {
  const { files } = resolveModel(ref);
  const hash = createHash('sha256');
  for (const f of files) {
    hash.update(`${f.split(/[\\/]/).at(-1)}\0`);
    try {
      hash.update(readFileSync(f));
    } catch (e) {
      throw new InputError('invalid-input', `cannot read model file ${f}: ${(e as Error).message}`);
    }
  }
  return hash.digest('hex');
}

/** A loaded model and the backend it runs on. */
export interface LoadedModel {
  readonly model: Model;
  readonly backend: string;
}

/**
 * Load a plan's model for one worker: its own session. `intraOpThreads` caps ONNX Runtime's
 * threads per session, so that several worker threads do not oversubscribe the cores.
 */
export async function loadRunnerModel(ref: ModelRef, intraOpThreads?: number): Promise<LoadedModel> {
  const m = resolveModel(ref);
  const base = { name: m.name, labels: m.labels, inputRange: m.inputRange };
  if (m.format === 'onnx') {
    const { fromOnnx } = await import('@xlens/backend-onnx');
    return { model: await fromOnnx(m.entry, { ...base, intraOpThreads }), backend: 'onnx' };
  }
  const { initTfjsBackend, loadTfjsModel } = await import('@xlens/backend-tfjs');
  const used = await initTfjsBackend(ref.backend === 'tfjs-cpu' ? 'cpu' : 'wasm');
  return { model: await loadTfjsModel(m.entry, base), backend: `tfjs-${used}` };
}
