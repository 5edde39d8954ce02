import * as tf from '@tensorflow/tfjs';
import {
  type BackwardRequest,
  chunkRanges,
  OptionError,
  rulesForRows,
  type Tensor,
  UnsupportedError,
  XlensError,
} from '@xlens/core';
import type { Program } from './graph.js';

/**
 * Default `maxBatchBytes` on the wasm backend. tfjs-wasm's heap is a 32-bit wasm memory (at most
 * 4 GiB, never shrinking); a budget of 1 GiB leaves room for the weights, the model's inputs and
 * outputs, and allocator fragmentation. Other backends default to no limit.
 * @internal
 */
export const wasmBatchBytes = 2 ** 30;

/**
 * Largest single-item estimate that still runs (alone) under the default wasm budget: the wasm heap
 * ends at 4 GiB, and 1 GiB of it is left to the weights, inputs, outputs and fragmentation. The
 * estimate is an upper bound: the backward factor was measured at 9 on a ResNet-18 at 224² but 4.3
 * on InceptionV3 at 299² (about 530 MB of heap per item against an estimate of 1.24 GiB).
 * @internal
 */
export const wasmItemCeiling = 3 * 2 ** 30;

/**
 * Working memory per byte of activations, by kind of call. Forward-only calls keep every
 * activation alive until the end of the call (one `tidy`); a backward pass also keeps what the
 * tape saves, the cotangents, and each conv's padded, dilated cotangent. Measured on tfjs-wasm's
 * heap with ResNet-18 at 224² (peak heap growth per item ÷ activation bytes per item): about 1.3
 * forward and 9 backward.
 * @internal
 */
export const memoryFactor = { forward: 1.5, backward: 10 } as const;

/** Kind of call, for the memory estimate. @internal */
export type CallKind = keyof typeof memoryFactor;

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** Validate the `maxBatchBytes` option (when given). @internal */
export function checkMaxBatchBytes(value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
    throw new OptionError(
      'invalid-option',
      `maxBatchBytes ${String(value)} is invalid; expected a positive number of bytes (Infinity for no limit)`,
    );
  }
}

/** The budget in force: the option, else the tfjs backend's default. @internal */
export function batchBudget(option: number | undefined): number {
  if (option !== undefined) return option;
  return tf.getBackend() === 'wasm' ? wasmBatchBytes : Number.POSITIVE_INFINITY;
}

/** Number of elements of a shape. */
const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

interface ShapedLayer {
  computeOutputShape(shape: (number | null)[] | (number | null)[][]): (number | null)[] | (number | null)[][];
}

/**
 * Floats in one item's activations: the input and every layer output. Free dimensions (an input
 * declared `[null, null, 3]`) are resolved for `inputItem` with the layers' own shape inference;
 * null when that fails (the call then runs unsplit).
 * @internal
 */
export function activationFloats(program: Program, inputItem: readonly number[]): number | null {
  const steps = program.steps.filter((s) => !s.alias);
  let total = size(inputItem);
  if (steps.every((s) => s.itemShape.every((d) => d >= 0))) {
    for (const s of steps) total += size(s.itemShape);
    return total;
  }
  try {
    const shapes = new Map<number, (number | null)[]>([[program.inputSlot, [1, ...inputItem]]]);
    for (const s of steps) {
      const ins = s.inputs.map((i) => shapes.get(i)!);
      const out = (s.layer as unknown as ShapedLayer).computeOutputShape(ins.length === 1 ? ins[0] : ins);
      const outs = (Array.isArray(out[0]) ? out : [out]) as (number | null)[][];
      for (let i = 0; i < s.outputs.length; i++) shapes.set(s.outputs[i], outs[i]);
      const item = outs[0].slice(1);
      if (item.some((d) => d === null || d < 0)) return null;
      total += size(item as number[]);
    }
    return total;
  } catch {
    return null;
  }
}

/** Where a call splits its batch, and how. @internal */
export interface SubBatchPlan {
  /** Model name, for messages. */
  readonly name: string;
  readonly kind: CallKind;
  /** Batch size of the call. */
  readonly n: number;
  /** Floats of one item's activations (null: unknown, no split). */
  readonly floats: number | null;
  /** The `maxBatchBytes` option as given. */
  readonly option: number | undefined;
}

/** Estimated working bytes of one item for a call. @internal */
export function itemBytes(floats: number, kind: CallKind): number {
  return floats * 4 * memoryFactor[kind];
}

/**
 * Items per underlying call so that their estimated working memory stays within the budget. Under
 * the default budget an item over it runs alone while its estimate is within `wasmItemCeiling`;
 * otherwise (and over an explicit `maxBatchBytes`) a single item over the budget throws
 * `UnsupportedError` before any compute.
 * @internal
 */
export function itemsPerCall(plan: SubBatchPlan): number {
  const budget = batchBudget(plan.option);
  if (plan.floats === null || !Number.isFinite(budget)) return Math.max(plan.n, 1);
  const perItem = itemBytes(plan.floats, plan.kind);
  if (perItem > budget) {
    if (plan.option === undefined && perItem <= wasmItemCeiling) return 1;
    const limit =
      plan.option === undefined
        ? `more than the ${mib(wasmItemCeiling)} one item may take of tfjs-wasm's 4 GiB heap; use a smaller input, or try with fromTfjs(model, { maxBatchBytes })`
        : `more than maxBatchBytes = ${mib(budget)}; raise it with fromTfjs(model, { maxBatchBytes }) or use a smaller input`;
    throw new UnsupportedError(
      'unsupported',
      `one item of ${plan.name} needs an estimated ${mib(perItem)} for a ${plan.kind} pass (${plan.floats} activation values × 4 bytes × ${memoryFactor[plan.kind]}), ${limit}`,
    );
  }
  return Math.max(1, Math.min(plan.n, Math.floor(budget / perItem)));
}

/** A wasm trap (out-of-bounds access, null function) as an `XlensError` suggesting a smaller batch. */
function isWasmTrap(e: unknown): boolean {
  // Looked up at run time: the global is absent from this package's TypeScript lib.
  const wasm = (globalThis as { WebAssembly?: { RuntimeError?: abstract new () => Error } }).WebAssembly;
  return wasm?.RuntimeError !== undefined && e instanceof wasm.RuntimeError;
}

/**
 * Run `run` over consecutive row ranges of at most `itemsPerCall(plan)` items and `merge` the
 * results in order. A wasm trap inside a call is rethrown as an `XlensError` (code `unsupported`)
 * that names the batch and suggests a smaller one; the trap is its `cause`.
 * @internal
 */
export async function inSubBatches<T>(
  plan: SubBatchPlan,
  run: (start: number, end: number) => Promise<T>,
  merge: (parts: T[]) => T,
): Promise<T> {
  const per = itemsPerCall(plan);
  const guarded = async (s: number, e: number): Promise<T> => {
    try {
      return await run(s, e);
    } catch (cause) {
      if (!isWasmTrap(cause)) throw cause;
      throw new XlensError(
        'unsupported',
        `a ${plan.kind} pass of ${plan.name} over ${e - s} item(s) failed inside tfjs-wasm (${(cause as Error).message}), most likely out of wasm memory: pass a smaller batch, or a smaller fromTfjs(model, { maxBatchBytes }) (in force: ${mib(batchBudget(plan.option))})`,
        { cause },
      );
    }
  };
  if (per >= plan.n) return guarded(0, plan.n);
  const parts: T[] = [];
  for (const [s, e] of chunkRanges(plan.n, per)) parts.push(await guarded(s, e));
  return merge(parts);
}

/** Rows `[start, end)` of a batch tensor, as a view. @internal */
export function rows(t: Tensor, start: number, end: number): Tensor {
  const item = size(t.shape.slice(1));
  return { data: t.data.subarray(start * item, end * item), shape: [end - start, ...t.shape.slice(1)] };
}

/**
 * The part of a (validated) backward request for items `[s, e)`: per-item rule tensors are
 * gathered by core's `rulesForRows`, the same function core's streams use. @internal
 */
export function sliceRequest(req: BackwardRequest, s: number, e: number): BackwardRequest {
  const items = Array.from({ length: e - s }, (_, i) => s + i);
  const rules = rulesForRows(req.rules, req.input.shape[0], req.input.shape.length, items);
  return {
    ...req,
    input: rows(req.input, s, e),
    seed: { ...req.seed, cotangent: rows(req.seed.cotangent, s, e) },
    ...(rules ? { rules } : {}),
  };
}
