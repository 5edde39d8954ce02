import {
  checkFiniteResult,
  checkItemValues,
  type Layout,
  type Model,
  sizeOf,
  type Tensor,
  topK,
} from '@xlens/core';
import { isZooModel, ZOO_MODEL_NAMES } from '@xlens/zoo';
import { choiceFlag, intFlag, numbersFlag, type ParsedArgs, sizeFlag, UsageError } from './args.js';
import {
  expandImagePaths,
  type InputBatch,
  loadImages,
  loadNpyInput,
  preprocessRange,
  zooSampleBatch,
} from './inputs.js';
import { type BackendName, backendNames, defaultModel, loadModel, readLabels } from './model-source.js';
import type { Prediction } from './report-spec.js';

/** A model with its input batch and predictions, shared by `explain` and `predict`. */
export interface Session {
  readonly model: Model;
  readonly backend: string;
  readonly source: string;
  readonly batch: InputBatch;
  /** Model outputs for the batch, `N×K`. */
  readonly logits: Tensor;
  /** Top classes per item with probabilities. */
  readonly predictions: Prediction[][];
  /** Median time of one forward pass of the whole batch. */
  readonly forwardMs: number;
  /** One-time set-up the backend has spent so far (graph and session builds), in ms. */
  readonly setupMilliseconds: () => number;
  /** How images became the model's input (or that `--input` was used as it is). */
  readonly preprocessing: Readonly<Record<string, string | number | boolean | readonly number[]>>;
  /** What the backend noted while loading the model (e.g. a kept softmax). */
  readonly warnings: readonly string[];
}

/** Probabilities from outputs: softmax of logits, or the outputs when they already are probabilities. */
export function probabilities(row: Float32Array, kind: Model['info']['outputKind']): Float64Array {
  if (kind === 'probabilities') return Float64Array.from(row);
  const m = Math.max(...row);
  const e = Float64Array.from(row, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

async function medianForwardMs(model: Model, input: Tensor): Promise<{ ms: number; output: Tensor }> {
  const output = await model.forward(input); // also the warm-up
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await model.forward(input);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { ms: Math.max(times[1], 1e-3), output };
}

/** What was done to the inputs, as recorded in `results.json` and the report. */
function describePreprocessing(
  values: ParsedArgs['values'],
  pre: { size?: { height: number; width: number }; mean?: number[]; std?: number[]; bgr: boolean },
  model: Model,
  batch: InputBatch,
): Record<string, string | number | boolean | readonly number[]> {
  const shape = batch.tensor.shape;
  const out: Record<string, string | number | boolean | readonly number[]> = {
    source: values.input !== undefined ? 'npy' : values.image !== undefined ? 'images' : 'zoo samples',
    'input shape': shape.slice(1),
    layout: model.info.layout,
  };
  if (values.image !== undefined) {
    out.pixels = 'x = (pixel/255 − mean) / std after resize and centre crop';
    if (pre.size) out.size = `${pre.size.height}x${pre.size.width}`;
    out.mean = pre.mean ?? [0];
    out.std = pre.std ?? [1];
  }
  out.bgr = pre.bgr;
  const range = model.info.inputRange;
  if (range) out['input range'] = range.flat();
  return out;
}

/** Load the model named by the flags (the zoo default without `--model`) and its inputs, and predict. */
export async function openSession(values: ParsedArgs['values'], _io: unknown): Promise<Session> {
  const backend = choiceFlag<BackendName>('backend', values.backend, backendNames);
  const labels = values.labels !== undefined ? await readLabels(values.labels) : undefined;
  const pre = {
    size: sizeFlag(values.size),
    mean: numbersFlag('mean', values.mean),
    std: numbersFlag('std', values.std),
    bgr: values.bgr ?? false,
  };
  const layout = choiceFlag<Layout>('layout', values.layout, ['NCHW', 'NHWC']);
  const top = intFlag('top', values.top, 1) ?? 5;
  if (values.input !== undefined && values.image !== undefined)
    throw new UsageError('give either --image or --input, not both');
  if (values.input !== undefined && (pre.size || pre.mean || pre.std)) {
    throw new UsageError('--input is already preprocessed; --size, --mean and --std apply to --image only');
  }
  const ref = values.model ?? defaultModel;
  const imagePaths = values.image ? await expandImagePaths(values.image) : undefined;
  if (!imagePaths && values.input === undefined && !isZooModel(ref)) {
    throw new UsageError(
      `give --image or --input for ${ref} (only bundled models have sample images: ${ZOO_MODEL_NAMES.join(', ')})`,
    );
  }
  if (pre.std?.some((v) => v === 0)) throw new UsageError('--std must not contain 0');
  const range = imagePaths ? preprocessRange(pre) : undefined;
  const inputRange = range ? (range.length === 1 ? range[0] : range) : undefined;
  const inputShape = pre.size
    ? layout === 'NHWC'
      ? [pre.size.height, pre.size.width, 3]
      : [3, pre.size.height, pre.size.width]
    : undefined;
  const loaded = await loadModel(ref, { backend, labels, inputRange, inputShape });
  const { model } = loaded;
  try {
    checkItemValues(model.info.name, model.info.inputShape);
    if (labels && labels.length !== model.info.numClasses) {
      throw new UsageError(
        `--labels has ${labels.length} labels; ${model.info.name} has ${model.info.numClasses} classes`,
      );
    }
    // ONNX Runtime builds (or loads from its cache) the forward session on its own threads while
    // the inputs are decoded.
    const warm =
      loaded.backend === 'onnx'
        ? model
            .forward({
              data: new Float32Array(sizeOf(model.info.inputShape)),
              shape: [1, ...model.info.inputShape],
            })
            .catch(() => undefined)
        : undefined;
    const batch = imagePaths
      ? await loadImages(imagePaths, model.info, pre)
      : values.input !== undefined
        ? await loadNpyInput(values.input, model, layout, pre.bgr)
        : zooSampleBatch(loaded.zoo!, model);
    await warm;
    const { ms, output } = await medianForwardMs(model, batch.tensor);
    checkFiniteResult(model.info.name, 'the model output', output, batch.tensor);
    const k = model.info.numClasses;
    const predictions = batch.names.map((_, i) => {
      const p = probabilities(output.data.subarray(i * k, (i + 1) * k), model.info.outputKind);
      return topK(p, Math.min(top, k)).map((index) => ({
        index,
        label: model.info.labels?.[index],
        probability: p[index],
      }));
    });
    return {
      model,
      backend: loaded.backend,
      source: loaded.source,
      batch,
      logits: output,
      predictions,
      forwardMs: ms,
      preprocessing: describePreprocessing(values, pre, model, batch),
      setupMilliseconds: loaded.setupMilliseconds ?? (() => 0),
      warnings: loaded.warnings,
    };
  } catch (e) {
    await model.dispose();
    throw e;
  }
}
