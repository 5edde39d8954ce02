import { createRng, type Tensor } from '@xlens/core';
import { expect } from 'vitest';
import { encodeOnnxModel, fromOnnx, OnnxGraphBuilder } from '../src/index.js';

/** Builds the op under test on the graph input `x` and returns the output tensor name. */
export type OpGraph = (b: OnnxGraphBuilder, x: string) => string;

/** Deterministic normal values. */
export function normals(count: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(count);
  createRng(seed, 9).fillNormal(out, 0, scale);
  return out;
}

/**
 * Build a one-op (or few-op) model, differentiate it with the backend and compare the input
 * gradient, element by element, with central finite differences of the model's own forward
 * (all perturbed inputs in one batch). `opset` defaults to 17.
 */
export async function checkGradient(
  graph: OpGraph,
  itemShape: readonly number[],
  options: { opset?: number; eps?: number; tol?: number; seed?: number; input?: Float32Array } = {},
): Promise<void> {
  const b = new OnnxGraphBuilder({ opset: options.opset ?? 17 });
  const x = b.input('x', ['N', ...itemShape]);
  b.output(b.node('Identity', [graph(b, x)], {}, { outputs: ['y'] }));
  const model = await fromOnnx(encodeOnnxModel(b.build()), { intraOpThreads: 1 });
  try {
    const size = itemShape.reduce((a, c) => a * c, 1);
    const seed = options.seed ?? 1;
    const data = options.input ?? normals(size, seed);
    const input: Tensor = { data, shape: [1, ...itemShape] };
    const k = model.info.numClasses;
    const cot = normals(k, seed + 1);
    const { inputGradient } = await model.backward!({
      input,
      seed: { kind: 'output', cotangent: { data: cot, shape: [1, k] } },
    });
    const eps = options.eps ?? 1e-3;
    const batch = new Float32Array(2 * size * size);
    for (let i = 0; i < size; i++) {
      batch.set(data, 2 * i * size);
      batch.set(data, (2 * i + 1) * size);
      batch[2 * i * size + i] += eps;
      batch[(2 * i + 1) * size + i] -= eps;
    }
    const out = await model.forward({ data: batch, shape: [2 * size, ...itemShape] });
    const numeric = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += (out.data[2 * i * k + j] - out.data[(2 * i + 1) * k + j]) * cot[j];
      numeric[i] = s / (2 * eps);
    }
    let scale = 0;
    let worst = 0;
    let at = 0;
    for (let i = 0; i < size; i++) {
      scale = Math.max(scale, Math.abs(numeric[i]));
      const d = Math.abs(numeric[i] - inputGradient!.data[i]);
      if (d > worst) {
        worst = d;
        at = i;
      }
    }
    expect(scale, 'the gradient is identically zero: the test would prove nothing').toBeGreaterThan(1e-6);
    expect(
      worst,
      `element ${at}: numeric ${numeric[at]}, analytic ${inputGradient!.data[at]}`,
    ).toBeLessThanOrEqual((options.tol ?? 3e-3) * scale + 1e-6);
  } finally {
    await model.dispose();
  }
}
