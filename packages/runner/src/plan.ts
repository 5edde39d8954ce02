import { createHash } from 'node:crypto';
import { InputError, type ScoreKind } from '@xlens/core';

/** Backends a runner can load a model on. */
export const runnerBackends = ['tfjs-wasm', 'tfjs-cpu', 'onnx'] as const;
export type RunnerBackend = (typeof runnerBackends)[number];

/** The model every worker loads: a zoo name or a path all workers can reach, and its content hash. */
export interface ModelRef {
  /** A zoo model name (`shapes`), a tfjs `model.json` (or its folder) or an `.onnx` file. */
  readonly ref: string;
  readonly backend?: RunnerBackend;
}

/** Bundled data sets (the zoo's, whose models share their names). */
export const zooDatasets = ['shapes', 'shapes-shortcut', 'mnist'] as const;
export type ZooDatasetName = (typeof zooDatasets)[number];

/**
 * Where the items come from. Items are read per work unit (a range), never all at once.
 * - `zoo`: the first `count` items of a bundled data set (generated per range, with ground truth
 *   for the shapes sets);
 * - `images`: the image files of a folder in name order, with an optional JSON labels file
 *   `{ "<file name>": { "label": 3, "box": [x0, y0, x1, y1] } }` (boxes in the model's input pixels);
 * - `arrays`: `.npy` shards (`N×…` inputs, already preprocessed, in the model's layout) or `.npz`
 *   shards with an `x` array and optional `labels` (`N`) and `masks` (`N×H×W`), in the given order.
 */
export type DatasetRef =
  | { readonly kind: 'zoo'; readonly name: ZooDatasetName; readonly count: number }
  | { readonly kind: 'images'; readonly dir: string; readonly labels?: string }
  | { readonly kind: 'arrays'; readonly files: readonly string[] };

/** A method to evaluate: its registry id, options, and the name results are filed under. */
export interface MethodSpecJson {
  readonly key: string;
  readonly id: string;
  readonly options: Readonly<Record<string, unknown>>;
}

/** A metric to compute, with options. */
export interface MetricSpecJson {
  readonly id: string;
  readonly options: Readonly<Record<string, unknown>>;
}

/**
 * An evaluation: everything a worker needs to compute any of its units, serialisable as JSON.
 * `fingerprint` holds content hashes of the model and data set; a worker that reads different
 * content refuses the unit.
 */
export interface EvaluationPlan {
  readonly model: ModelRef;
  readonly dataset: DatasetRef;
  readonly methods: readonly MethodSpecJson[];
  readonly metrics: readonly MetricSpecJson[];
  readonly seed: number;
  readonly batchSize?: number;
  readonly score?: ScoreKind;
  /** `top1` (the model's prediction) or `label` (the data set's label; items without one fail). */
  readonly target: 'top1' | 'label';
  /** Items per work unit. */
  readonly unitSize: number;
  readonly fingerprint: { readonly model: string; readonly dataset: string };
}

/** One work unit: an item range of one (method, metric) pair, with the seed. */
export interface WorkUnit {
  /** Content key: the same plan, range, method, metric and seed always give the same key. */
  readonly key: string;
  /** The plan's id (`planId`). */
  readonly run: string;
  readonly start: number;
  readonly end: number;
  readonly methodIndex: number;
  readonly metricIndex: number;
  readonly seed: number;
}

/** One item's score in a unit: NaN-free, `null` with `error` when the item could not be scored. */
export interface ItemScore {
  readonly item: number;
  readonly name: string;
  readonly target: number | null;
  readonly score: number | null;
  readonly error?: string;
}

/** What computing a unit gives. `error` is set when the whole unit failed (deterministically). */
export interface UnitResult {
  readonly key: string;
  readonly items: readonly ItemScore[];
  readonly warnings: readonly string[];
  readonly error?: string;
  readonly milliseconds: number;
}

/** JSON with object keys sorted, so equal values give equal text (and hashes). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The id of a plan: a hash of everything that determines its results. */
export function planId(plan: EvaluationPlan): string {
  return sha256(canonicalJson(plan)).slice(0, 32);
}

/** Check a plan's shape before any work (a clear error instead of a failing worker). */
export function checkPlan(plan: EvaluationPlan): void {
  const bad = (msg: string): never => {
    throw new InputError('invalid-input', `evaluation plan: ${msg}`);
  };
  if (!Number.isInteger(plan.unitSize) || plan.unitSize < 1)
    bad(`unitSize must be an integer ≥ 1, got ${plan.unitSize}`);
  if (!Number.isInteger(plan.seed)) bad(`seed must be an integer, got ${plan.seed}`);
  if (plan.methods.length === 0) bad('no method to evaluate');
  if (plan.metrics.length === 0) bad('no metric to compute');
  const keys = new Set(plan.methods.map((m) => m.key));
  if (keys.size !== plan.methods.length) bad('two methods share a key');
  if (plan.target !== 'top1' && plan.target !== 'label')
    bad(`target must be top1 or label, got ${plan.target}`);
}

/**
 * Every unit of a plan over `count` items: ranges of `unitSize` items, for each method and metric,
 * ordered range-major so that a worker taking units in order reuses a method's maps.
 */
export function planUnits(plan: EvaluationPlan, count: number): WorkUnit[] {
  checkPlan(plan);
  const run = planId(plan);
  const units: WorkUnit[] = [];
  for (let start = 0; start < count; start += plan.unitSize) {
    const end = Math.min(start + plan.unitSize, count);
    plan.methods.forEach((method, methodIndex) => {
      plan.metrics.forEach((metric, metricIndex) => {
        const key = sha256(canonicalJson({ run, start, end, method, metric, seed: plan.seed })).slice(0, 40);
        units.push({ key, run, start, end, methodIndex, metricIndex, seed: plan.seed });
      });
    });
  }
  return units;
}
