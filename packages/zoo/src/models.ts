import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InputError, type Layout } from '@xlens/core';

/**
 * Names of the bundled models. `shapes-permuted` is the `shapes` architecture trained on permuted
 * labels (the data-randomisation model of Adebayo et al. 2018): it predicts nothing useful.
 */
export const ZOO_MODEL_NAMES = ['shapes', 'shapes-shortcut', 'mnist', 'shapes-permuted'] as const;

/** A bundled model's name. */
export type ZooModelName = (typeof ZOO_MODEL_NAMES)[number];

/** File formats every bundled model ships in. */
export type ZooModelFormat = 'tfjs' | 'onnx';

/** Facts recorded by the training script in `models/<name>/meta.json`. */
export interface ZooModelMeta {
  readonly name: string;
  readonly description: string;
  /** One input item in `layout` order, e.g. `[64, 64, 3]`. */
  readonly inputShape: readonly number[];
  readonly layout: Layout;
  readonly inputRange: readonly [number, number];
  /** The outputs are logits (no softmax layer in the saved model). */
  readonly outputKind: 'logits';
  readonly numClasses: number;
  readonly architecture: string;
  readonly parameters: number;
  /** The last conv layer (the natural CAM layer). */
  readonly camLayer: string;
  /** Accuracy on the held-out test items the script evaluated. */
  readonly testAccuracy: number;
  readonly trainCount: number;
  readonly testCount: number;
  readonly seed: number;
  readonly epochs: number;
  readonly date: string;
  /** Everything else the script recorded (data seeds, optimizer, shortcut checks…). */
  readonly [key: string]: unknown;
}

/** One bundled model: where its files are, its labels and training facts. */
export interface ZooModel {
  readonly name: ZooModelName;
  /** Directory holding `model.json`, `weights.bin`, `model.onnx`, `labels.json`, `meta.json`. */
  readonly dir: string;
  /** Path of the tfjs LayersModel `model.json`. */
  readonly tfjs: string;
  /** Path of the ONNX copy (same weights; NHWC input, transposed to NCHW inside). */
  readonly onnx: string;
  /** Class labels, index-aligned with the outputs (read from `labels.json` on first access). */
  readonly labels: readonly string[];
  /** Training facts (read from `meta.json` on first access). */
  readonly meta: ZooModelMeta;
}

function isZooModelName(name: string): name is ZooModelName {
  return (ZOO_MODEL_NAMES as readonly string[]).includes(name);
}

/** `name` as a `ZooModelName`, or an `InputError` naming the known models. */
export function checkName(name: string): ZooModelName {
  if (!isZooModelName(name)) {
    throw new InputError(
      'invalid-input',
      `unknown zoo model '${name}'; known: ${ZOO_MODEL_NAMES.join(', ')}`,
    );
  }
  return name;
}

function describeModel(name: ZooModelName): ZooModel {
  const file = (f: string): string => fileURLToPath(new URL(`../models/${name}/${f}`, import.meta.url));
  let labels: readonly string[] | undefined;
  let meta: ZooModelMeta | undefined;
  return {
    name,
    dir: fileURLToPath(new URL(`../models/${name}/`, import.meta.url)),
    tfjs: file('model.json'),
    onnx: file('model.onnx'),
    // Read lazily so that importing the package touches no file.
    get labels() {
      labels ??= JSON.parse(readFileSync(file('labels.json'), 'utf8')) as string[];
      return labels;
    },
    get meta() {
      meta ??= JSON.parse(readFileSync(file('meta.json'), 'utf8')) as ZooModelMeta;
      return meta;
    },
  };
}

/** The bundled models, in `ZOO_MODEL_NAMES` order. */
export const zooModels: readonly ZooModel[] = ZOO_MODEL_NAMES.map(describeModel);

/** Whether `name` is a bundled model's name. */
export function isZooModel(name: string): name is ZooModelName {
  return isZooModelName(name);
}

/** One bundled model by name; throws an `InputError` naming the known models otherwise. */
export function zooModel(name: string): ZooModel {
  const known = checkName(name);
  return zooModels.find((m) => m.name === known)!;
}

/**
 * File path of a bundled model: the tfjs `model.json` (load with `@xlens/backend-tfjs`'s
 * `loadTfjsModel`) or the ONNX file (load with `@xlens/backend-onnx`'s `fromOnnx`).
 */
export function zooModelPath(name: string, format: ZooModelFormat = 'tfjs'): string {
  const model = zooModel(name);
  if (format !== 'tfjs' && format !== 'onnx') {
    throw new InputError('invalid-input', `unknown model format '${String(format)}'; known: tfjs, onnx`);
  }
  return format === 'tfjs' ? model.tfjs : model.onnx;
}
