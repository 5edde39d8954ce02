import { capabilityMembers } from '../capabilities.js';
import type { BackwardRequest, BackwardResult, Capability, Model } from '../model.js';
import { createRng } from '../ops/random.js';
import { sameShape, sizeOf, type Tensor } from '../tensor.js';

/** Default relative tolerance of conformance comparisons: float32 backends against the float64 oracle. */
export const defaultTolerance = 1e-4;

/**
 * Throw unless `actual` matches `expected`: same shape, finite, and
 * `max |actual − expected| ≤ rtol · max |expected| + 1e-7` (relative to the tensor's scale, so that
 * near-zero entries of a large map do not demand impossible precision).
 */
export function assertClose(
  what: string,
  actual: Tensor | undefined,
  expected: Tensor,
  rtol = defaultTolerance,
): void {
  if (!actual) throw new Error(`${what}: missing (expected shape [${expected.shape.join(', ')}])`);
  if (!sameShape(actual.shape, expected.shape) || actual.data.length !== expected.data.length) {
    throw new Error(`${what}: shape [${actual.shape.join(', ')}], expected [${expected.shape.join(', ')}]`);
  }
  let scale = 0;
  for (const v of expected.data) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.data.length; i++) {
    const a = actual.data[i];
    if (!Number.isFinite(a))
      throw new Error(`${what}: value ${a} at flat index ${i}, expected ${expected.data[i]}`);
    const d = Math.abs(a - expected.data[i]);
    if (d > worst) {
      worst = d;
      at = i;
    }
  }
  const tol = rtol * scale + 1e-7;
  if (worst > tol) {
    throw new Error(
      `${what}: max |difference| ${worst.toExponential(3)} at flat index ${at} (got ${actual.data[at]}, expected ${expected.data[at]}) exceeds ${tol.toExponential(3)} (relative ${rtol} of max |expected| ${scale.toExponential(3)})`,
    );
  }
}

/** Throw unless the model offers every capability (and the member behind it). */
export function requireCapabilities(caseName: string, model: Model, requires: readonly Capability[]): void {
  const missing = requires.filter(
    (c) => !model.capabilities.has(c) || typeof model[capabilityMembers[c]] !== 'function',
  );
  if (missing.length > 0) {
    throw new Error(
      `${caseName}: needs capability ${missing.join(', ')}, which ${model.info.name} does not offer (it has: ${[...model.capabilities].join(', ') || 'forward only'}); a backend that lacks it must not run this case`,
    );
  }
}

/** Throw unless the backend model and the reference agree on layout, input shape and classes. */
export function requireSameInterface(caseName: string, model: Model, reference: Model): void {
  const a = model.info;
  const b = reference.info;
  if (a.layout !== b.layout) {
    throw new Error(
      `${caseName}: model layout ${a.layout} but reference layout ${b.layout}; build the reference with { layout: '${a.layout}' }`,
    );
  }
  if (!sameShape(a.inputShape, b.inputShape)) {
    throw new Error(
      `${caseName}: model inputShape [${a.inputShape.join(', ')}], expected [${b.inputShape.join(', ')}]`,
    );
  }
  if (a.numClasses !== b.numClasses)
    throw new Error(`${caseName}: model has ${a.numClasses} classes, expected ${b.numClasses}`);
}

/** A deterministic input batch of `n` items, uniform in `[low, high)`, in the model's layout. */
export function randomInput(model: Model, n: number, seed: number, low = -1, high = 1): Tensor {
  const shape = [n, ...model.info.inputShape];
  return { data: createRng(seed, 201).fillUniform(new Float32Array(sizeOf(shape)), low, high), shape };
}

/** A deterministic tensor of the given shape, uniform in `[low, high)`. */
export function randomTensor(shape: readonly number[], seed: number, low = -1, high = 1): Tensor {
  return {
    data: createRng(seed, 202).fillUniform(new Float32Array(sizeOf(shape)), low, high),
    shape: [...shape],
  };
}

/** One-hot output cotangent: row i selects class `i mod numClasses` (shifted by `offset`). */
export function oneHotRows(n: number, numClasses: number, offset = 0): Tensor {
  const data = new Float32Array(n * numClasses);
  for (let i = 0; i < n; i++) data[i * numClasses + ((i + offset) % numClasses)] = 1;
  return { data, shape: [n, numClasses] };
}

/** Which parts of two backward results to compare. */
export interface BackwardFields {
  readonly inputGradient?: boolean;
  readonly inputRelevance?: boolean;
  readonly layerGradients?: readonly string[];
  readonly activations?: readonly string[];
}

/** Run the same backward request on both models and compare the outputs and the chosen fields. */
export async function compareBackward(
  label: string,
  model: Model,
  reference: Model,
  request: BackwardRequest,
  fields: BackwardFields,
  rtol = defaultTolerance,
): Promise<BackwardResult> {
  const got = await model.backward!(request);
  const want = await reference.backward!(request);
  assertClose(`${label}: output`, got.output, want.output, rtol);
  if (fields.inputGradient)
    assertClose(`${label}: inputGradient`, got.inputGradient, want.inputGradient!, rtol);
  if (fields.inputRelevance)
    assertClose(`${label}: inputRelevance`, got.inputRelevance, want.inputRelevance!, rtol);
  for (const name of fields.layerGradients ?? []) {
    assertClose(
      `${label}: layerGradients.${name}`,
      got.layerGradients?.[name],
      want.layerGradients![name],
      rtol,
    );
  }
  for (const name of fields.activations ?? []) {
    assertClose(`${label}: activations.${name}`, got.activations?.[name], want.activations![name], rtol);
  }
  return got;
}
