import type * as tfTypes from '@tensorflow/tfjs';
import { InputError, type Model, type ModelInfo } from '@xlens/core';
import { type FilePayload, isOnnxRuntime, type ModelSource, type RuntimeId } from './protocol.js';

/** What a zoo model's `index.json` entry says about it (written by scripts/prepare-assets.mjs). */
export interface ZooEntry {
  readonly name: string;
  readonly description: string;
  readonly labels: readonly string[];
  readonly inputRange: readonly [number, number];
  readonly camLayer: string;
  readonly samples: readonly string[];
}

/** A model loaded in the worker, with what the page shows about it. */
export interface LoadedModel {
  readonly model: Model;
  readonly backend: string;
  readonly threads: number;
  readonly warnings: readonly string[];
}

const base = (name: string) => name.split(/[\\/]/).pop() ?? name;

/** The format of dropped model files: one `.onnx`, or a `model.json` with its weight shards. */
export function droppedFormat(files: readonly { name: string }[]): 'onnx' | 'tfjs' {
  const onnx = files.filter((f) => /\.onnx$/i.test(f.name));
  const json = files.filter((f) => /\.json$/i.test(f.name) && !/labels/i.test(base(f.name)));
  if (onnx.length === 1 && json.length === 0) return 'onnx';
  if (onnx.length === 0 && json.length === 1) return 'tfjs';
  const names = files.map((f) => f.name).join(', ') || 'nothing';
  throw new InputError(
    'invalid-input',
    `${names} is not a model this page reads: drop one .onnx file, or a tfjs model.json with its .bin weight files (plus an optional labels.json)`,
  );
}

/** Class labels from a dropped `labels*.json` (a JSON array of strings) or `labels*.txt`. */
function droppedLabels(files: readonly FilePayload[]): string[] | undefined {
  const file = files.find((f) => /labels.*\.(json|txt)$/i.test(base(f.name)));
  if (!file) return undefined;
  const text = new TextDecoder().decode(file.bytes);
  if (/\.txt$/i.test(file.name))
    return text
      .split(/\r?\n/)
      .map((s) => s.trim())
      .filter(Boolean);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InputError('invalid-input', `${file.name} is not valid JSON`);
  }
  if (!Array.isArray(parsed) || parsed.some((s) => typeof s !== 'string'))
    throw new InputError('invalid-input', `${file.name} must hold a JSON array of strings`);
  return parsed as string[];
}

/** A tfjs IOHandler over dropped files: the model.json and the shards its manifest names. */
function memoryHandler(tf: typeof tfTypes, files: readonly FilePayload[]): tfTypes.io.IOHandler {
  const jsonFile = files.find((f) => /\.json$/i.test(f.name) && !/labels/i.test(base(f.name)))!;
  let json: tfTypes.io.ModelJSON;
  try {
    json = JSON.parse(new TextDecoder().decode(jsonFile.bytes));
  } catch {
    throw new InputError('invalid-input', `${jsonFile.name} is not valid JSON, so not a tfjs model.json`);
  }
  if (!json || typeof json !== 'object' || !json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new InputError(
      'invalid-input',
      `${jsonFile.name} is not a tfjs model.json (it needs modelTopology and weightsManifest)`,
    );
  }
  return {
    load: () =>
      tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs: tfTypes.io.WeightsManifestEntry[] = [];
        const parts: Uint8Array[] = [];
        for (const group of manifest) {
          for (const path of group.paths) {
            const shard = files.find((f) => base(f.name) === base(path));
            if (!shard)
              throw new InputError(
                'invalid-input',
                `${jsonFile.name} needs the weight file ${base(path)}: drop it together with the model.json`,
              );
            parts.push(new Uint8Array(shard.bytes));
          }
          specs.push(...group.weights);
        }
        const data = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
        let offset = 0;
        for (const p of parts) {
          data.set(p, offset);
          offset += p.length;
        }
        return [specs, data.buffer];
      }),
  };
}

/** Threads the runtimes may use: all cores up to 4 when the page is cross-origin isolated, else 1. */
export function threadCount(): number {
  return self.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
}

async function loadTfjs(
  runtime: RuntimeId,
  source: ModelSource,
  appBase: string,
  info: Pick<ModelInfo, 'name' | 'labels' | 'inputRange'>,
): Promise<LoadedModel> {
  const tf = await import('@tensorflow/tfjs');
  const { fromTfjs, initTfjsBackend } = await import('@xlens/backend-tfjs');
  const wanted = runtime === 'tfjs-webgl' ? 'webgl' : runtime === 'tfjs-wasm' ? 'wasm' : 'cpu';
  // tfjs-backend-wasm's threaded build starts its pthread workers from the source text of a bundled
  // function, which breaks once a bundler renames what it refers to ("e is not defined" in every
  // worker): its single-threaded SIMD build is used instead. ONNX Runtime Web loads its glue as a
  // separate file and keeps its threads.
  if (wanted === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm'); // registers the flag and the backend
    if (!tf.engine().registry.wasm) wasm.setWasmPaths(`${appBase}wasm/tfjs/`);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  }
  const backend = await initTfjsBackend(wanted, { wasmPaths: `${appBase}wasm/tfjs/` });
  let handler: string | tfTypes.io.IOHandler;
  let graph = false;
  if (source.kind === 'zoo') handler = `${appBase}zoo/${source.name}/model.json`;
  else {
    handler = memoryHandler(tf, source.files);
    const artifacts = await handler.load!();
    graph =
      artifacts.format === 'graph-model' ||
      Array.isArray((artifacts.modelTopology as { node?: unknown })?.node);
  }
  let tfModel: tfTypes.LayersModel | tfTypes.GraphModel;
  try {
    tfModel = graph ? await tf.loadGraphModel(handler) : await tf.loadLayersModel(handler);
  } catch (error) {
    throw new InputError(
      'invalid-input',
      `TensorFlow.js could not load the model: ${(error as Error).message}`,
    );
  }
  const model = fromTfjs(tfModel, { ...info, stripSoftmax: true });
  return { model, backend: `tfjs ${backend}`, threads: 1, warnings: model.warnings };
}

async function loadOnnx(
  runtime: RuntimeId,
  source: ModelSource,
  appBase: string,
  info: Pick<ModelInfo, 'name' | 'labels' | 'inputRange'>,
): Promise<LoadedModel> {
  const ort = await import('onnxruntime-web');
  const { fromOnnx } = await import('@xlens/backend-onnx');
  ort.env.wasm.wasmPaths = `${appBase}wasm/ort/`;
  ort.env.wasm.numThreads = threadCount();
  ort.env.wasm.proxy = false;
  let bytes: Uint8Array;
  if (source.kind === 'zoo') {
    const response = await fetch(`${appBase}zoo/${source.name}/model.onnx`);
    if (!response.ok)
      throw new InputError('invalid-input', `zoo model ${source.name}: HTTP ${response.status}`);
    bytes = new Uint8Array(await response.arrayBuffer());
  } else bytes = new Uint8Array(source.files.find((f) => /\.onnx$/i.test(f.name))!.bytes);
  const provider = runtime === 'ort-webgpu' ? 'webgpu' : 'wasm';
  if (
    provider === 'webgpu' &&
    !(await (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu?.requestAdapter())
  )
    throw new InputError('invalid-input', 'this browser has no WebGPU adapter; use ONNX Runtime Web · wasm');
  const model = await fromOnnx(bytes, { ...info, runtime: ort, executionProviders: [provider] });
  return {
    model,
    backend: `onnxruntime-web ${ort.env.versions.web} ${provider}`,
    threads: threadCount(),
    warnings: [],
  };
}

/** Load a model on a runtime: zoo models from the app's folder, dropped files from memory. */
export async function loadModel(
  source: ModelSource,
  runtime: RuntimeId,
  appBase: string,
): Promise<LoadedModel> {
  let info: Pick<ModelInfo, 'name' | 'labels' | 'inputRange'>;
  let onnx: boolean;
  if (source.kind === 'zoo') {
    const index = (await (await fetch(`${appBase}zoo/index.json`)).json()) as ZooEntry[];
    const entry = index.find((e) => e.name === source.name);
    if (!entry) throw new InputError('invalid-input', `unknown zoo model ${source.name}`);
    info = { name: entry.name, labels: entry.labels, inputRange: entry.inputRange };
    onnx = isOnnxRuntime(runtime);
  } else {
    onnx = droppedFormat(source.files) === 'onnx';
    if (onnx !== isOnnxRuntime(runtime)) {
      throw new InputError(
        'invalid-input',
        onnx
          ? 'an ONNX model runs on ONNX Runtime Web: pick the wasm or WebGPU runtime'
          : 'a tfjs model runs on TensorFlow.js: pick the WebGL, wasm or cpu runtime',
      );
    }
    const named = source.files.find((f) => /\.(onnx|json)$/i.test(f.name) && !/labels/i.test(f.name))!;
    const labels = droppedLabels(source.files);
    info = { name: base(named.name).replace(/\.(onnx|json)$/i, ''), ...(labels ? { labels } : {}) };
  }
  return onnx ? loadOnnx(runtime, source, appBase, info) : loadTfjs(runtime, source, appBase, info);
}
