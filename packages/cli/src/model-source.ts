import { stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { InputError, type Model, type ModelInfo, XlensError } from '@xlens/core';
import { nodeFileReader } from '@xlens/core/node';
import { isZooModel, ZOO_MODEL_NAMES, type ZooModelName, zooModel } from '@xlens/zoo';
import { UsageError } from './args.js';

/** Backends the CLI can run a model on. */
export const backendNames = ['tfjs-wasm', 'tfjs-cpu', 'tfjs-node', 'onnx'] as const;
export type BackendName = (typeof backendNames)[number];

/** A loaded model and where it came from. */
export interface LoadedModel {
  readonly model: Model;
  /** The backend it runs on, as shown in reports (`tfjs-wasm`, `onnx`, …). */
  readonly backend: string;
  /** What `--model` named, resolved (a path, or `zoo:<name>`). */
  readonly source: string;
  /** Notes from loading (e.g. a softmax output). */
  readonly warnings: readonly string[];
  /** Set when the model is a bundled zoo model (then sample images exist). */
  readonly zoo?: ZooModelName;
  /** One-time set-up time the backend has spent so far (ONNX graph and session builds), in ms. */
  readonly setupMilliseconds?: () => number;
}

/** The model `xlens explain` uses without `--model`. */
export const defaultModel: ZooModelName = 'shapes';

/** What the loader needs besides the model reference. */
export interface LoadModelOptions {
  readonly backend?: BackendName;
  readonly labels?: readonly string[];
  readonly inputRange?: ModelInfo['inputRange'];
  /** ONNX only: the item shape, for models whose input dims are symbolic. */
  readonly inputShape?: readonly number[];
}

const exists = async (path: string): Promise<boolean> => {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
};

/** Read `--labels`: a JSON array of strings, or a text file with one label per line. */
export async function readLabels(path: string): Promise<string[]> {
  let text: string;
  try {
    text = new TextDecoder().decode(nodeFileReader.readBytes(path));
  } catch (e) {
    throw new InputError(
      'invalid-input',
      `labels file ${path} not found or unreadable (${(e as Error).message})`,
    );
  }
  if (extname(path).toLowerCase() === '.json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new InputError('invalid-input', `labels file ${path} is not valid JSON`);
    }
    if (!Array.isArray(parsed) || parsed.some((s) => typeof s !== 'string')) {
      throw new InputError('invalid-input', `labels file ${path} must hold a JSON array of strings`);
    }
    return parsed as string[];
  }
  return text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The tfjs backend behind a CLI backend name. */
const tfjsBackend = { 'tfjs-wasm': 'wasm', 'tfjs-cpu': 'cpu', 'tfjs-node': 'tensorflow' } as const;

async function loadTfjs(path: string, options: LoadModelOptions, name: string): Promise<LoadedModel> {
  const backend = options.backend ?? 'tfjs-wasm';
  if (backend === 'onnx')
    throw new UsageError(`--backend onnx needs an .onnx model; ${path} is a tfjs model.json`);
  // Imported on demand: tfjs takes a second to load, which commands that fail early should not pay.
  const { initTfjsBackend, loadTfjsModel } = await import('@xlens/backend-tfjs');
  const used = await initTfjsBackend(tfjsBackend[backend]);
  const model = await loadTfjsModel(path, { name, labels: options.labels, inputRange: options.inputRange });
  return {
    model,
    backend: `tfjs-${used === 'tensorflow' ? 'node' : used}`,
    source: path,
    warnings: model.warnings,
  };
}

/**
 * The on-disk cache of built ONNX Runtime sessions: `$XLENS_CACHE_DIR`, default
 * `~/.cache/xlens/onnx`; `XLENS_NO_CACHE=1` turns it off.
 */
async function onnxSessionCache() {
  const off = process.env.XLENS_NO_CACHE;
  if (off && off !== '0') return undefined;
  const { sessionCache } = await import('@xlens/backend-onnx/node');
  return sessionCache();
}

async function loadOnnx(path: string, options: LoadModelOptions, name: string): Promise<LoadedModel> {
  if (options.backend !== undefined && options.backend !== 'onnx') {
    throw new UsageError(
      `--backend ${options.backend} needs a tfjs model.json; ${path} is an ONNX model (use --backend onnx)`,
    );
  }
  // Imported on demand, like tfjs: onnxruntime's native module is only loaded for ONNX models.
  const { fromOnnx, setupMilliseconds } = await import('@xlens/backend-onnx');
  const cache = await onnxSessionCache();
  const base = { name, labels: options.labels, inputRange: options.inputRange, ...(cache ? { cache } : {}) };
  let model: Model;
  try {
    model = await fromOnnx(path, base);
  } catch (e) {
    // Symbolic image dims (e.g. [N, 3, H, W]) need a concrete item shape: take it from --size.
    if (!(e instanceof XlensError && /symbolic/.test(e.message) && options.inputShape)) throw e;
    model = await fromOnnx(path, { ...base, inputShape: options.inputShape });
  }
  return {
    model,
    backend: 'onnx',
    source: path,
    warnings: [],
    setupMilliseconds: () => setupMilliseconds(model),
  };
}

/**
 * Resolve and load `--model`: a bundled zoo model's name, a tfjs `model.json` (or a folder holding
 * one) or an `.onnx` file. Files that do not exist and unknown formats are `invalid-input` errors
 * naming the path.
 */
export async function loadModel(ref: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  if (isZooModel(ref) && !(await exists(ref))) {
    const zoo = zooModel(ref);
    const labels = options.labels ?? zoo.labels;
    const inputRange = options.inputRange ?? zoo.meta.inputRange;
    const loaded =
      options.backend === 'onnx'
        ? await loadOnnx(zoo.onnx, { ...options, labels, inputRange }, zoo.name)
        : await loadTfjs(zoo.tfjs, { ...options, labels, inputRange }, zoo.name);
    return { ...loaded, source: `zoo:${zoo.name}`, zoo: zoo.name };
  }
  let path = ref;
  if (!(await exists(path))) {
    throw new InputError(
      'invalid-input',
      `model ${ref} not found (give a model.json, an .onnx file, a folder holding model.json, or a zoo name: ${ZOO_MODEL_NAMES.join(', ')})`,
    );
  }
  if ((await stat(path)).isDirectory()) {
    if (!(await exists(join(path, 'model.json'))))
      throw new InputError('invalid-input', `model folder ${ref} has no model.json`);
    path = join(path, 'model.json');
  }
  const ext = extname(path).toLowerCase();
  const name =
    ext === '.json' ? (path.split(/[\\/]/).at(-2) ?? 'model') : (path.split(/[\\/]/).at(-1) ?? 'model');
  if (ext === '.json') return loadTfjs(path, options, name);
  if (ext === '.onnx') return loadOnnx(path, options, name.replace(/\.onnx$/i, ''));
  throw new InputError('invalid-input', `model ${ref} is neither a tfjs model.json nor an .onnx file`);
}
