/**
 * Messages between the page and the worker that loads models and runs explanations. Everything
 * crossing is structured-cloneable; large arrays are transferred.
 */

/** Where the model runs. */
export type RuntimeId = 'tfjs-webgl' | 'tfjs-wasm' | 'tfjs-cpu' | 'ort-wasm' | 'ort-webgpu';

/** Every runtime, in the order the page lists them. */
export const runtimeIds: readonly RuntimeId[] = [
  'tfjs-webgl',
  'tfjs-wasm',
  'tfjs-cpu',
  'ort-wasm',
  'ort-webgpu',
];

/** Human names of the runtimes. */
export const runtimeTitles: Readonly<Record<RuntimeId, string>> = {
  'tfjs-webgl': 'TensorFlow.js · WebGL',
  'tfjs-wasm': 'TensorFlow.js · wasm',
  'tfjs-cpu': 'TensorFlow.js · cpu (plain JS)',
  'ort-wasm': 'ONNX Runtime Web · wasm',
  'ort-webgpu': 'ONNX Runtime Web · WebGPU',
};

/** Whether a runtime runs ONNX models (else tfjs models). */
export const isOnnxRuntime = (r: RuntimeId): boolean => r.startsWith('ort-');

/** A file handed to the worker. */
export interface FilePayload {
  readonly name: string;
  readonly bytes: ArrayBuffer;
}

/** A model to load: a bundled zoo model, or files the user dropped. */
export type ModelSource =
  | { readonly kind: 'zoo'; readonly name: string }
  | { readonly kind: 'files'; readonly files: readonly FilePayload[] };

/** How image pixels become model inputs: `x = (pixel / 255 − mean) / std` per channel. */
export interface Preprocess {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** What the page asks. Every request has an `id`, echoed by its answer. */
export type Request =
  | {
      readonly type: 'init';
      readonly id: number;
      /** URL of the app's folder (zoo models and wasm files are below it). */
      readonly base: string;
    }
  | {
      readonly type: 'load-model';
      readonly id: number;
      readonly source: ModelSource;
      readonly runtime: RuntimeId;
      readonly preprocess?: Preprocess;
    }
  | { readonly type: 'set-image'; readonly id: number; readonly image: FilePayload }
  | {
      readonly type: 'explain';
      readonly id: number;
      readonly method: string;
      /** Options as typed in the form, parsed by the method's option specs. */
      readonly options: Readonly<Record<string, unknown>>;
      /** `top1` or a class index. */
      readonly target: 'top1' | number;
      readonly batchSize?: number;
      readonly seed?: number;
      readonly score?: 'logit' | 'softmax' | 'log-softmax' | 'sigmoid';
    }
  | { readonly type: 'cancel'; readonly id: number };

/** Facts about the loaded model for the page. */
export interface ModelSummary {
  readonly name: string;
  readonly runtime: RuntimeId;
  /** What the runtime reports (e.g. the tfjs backend in use, the ORT execution provider). */
  readonly backend: string;
  readonly inputShape: readonly number[];
  readonly layout: string;
  readonly numClasses: number;
  readonly labels: readonly string[];
  readonly layers: readonly string[];
  readonly capabilities: readonly string[];
  readonly warnings: readonly string[];
  readonly loadMs: number;
  readonly threads: number;
}

/** One prediction of the top-k list. */
export interface Prediction {
  readonly index: number;
  readonly label: string;
  readonly logit: number;
  readonly probability: number;
}

/** The image as the model sees it, with the model's predictions. */
export interface ImageSummary {
  readonly name: string;
  /** RGBA of the preprocessed image at model size, for overlays. */
  readonly rgba: Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
  /** The image's own size before resizing. */
  readonly originalWidth: number;
  readonly originalHeight: number;
  readonly predictions: readonly Prediction[];
  readonly forwardMs: number;
}

/** One finished explanation. */
export interface ExplainResult {
  readonly method: string;
  readonly map: Float32Array;
  readonly shape: readonly number[];
  readonly mapKind: 'input' | 'pixel';
  readonly layout: 'NCHW' | 'NHWC' | 'NHW';
  readonly target: number | null;
  readonly options: Readonly<Record<string, unknown>>;
  readonly milliseconds: number;
  readonly warnings: readonly string[];
}

/** What the worker answers. */
export type Response =
  | { readonly type: 'ready'; readonly id: number; readonly webgpu: boolean; readonly isolated: boolean }
  | { readonly type: 'model'; readonly id: number; readonly model: ModelSummary }
  | { readonly type: 'image'; readonly id: number; readonly image: ImageSummary }
  | { readonly type: 'progress'; readonly id: number; readonly done: number; readonly total: number }
  | { readonly type: 'result'; readonly id: number; readonly result: ExplainResult }
  | {
      readonly type: 'error';
      readonly id: number;
      readonly message: string;
      /** The xlens error code when there is one (`aborted` for a cancelled run). */
      readonly code?: string;
    };
