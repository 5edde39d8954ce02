/**
 * Test fixtures: random inputs, closeness checks, a BatchNorm folded by hand, and a small residual
 * model (the toy specs are sequential) that implements the rules LRP needs on dense layers.
 */
import {
  type BackwardRequest,
  type BackwardResult,
  type Capability,
  createRng,
  type LayerInfo,
  type LinearRule,
  type Model,
  sizeOf,
  type Tensor,
} from '@xlens/core';
import type { ToyLayer, ToySpec } from '@xlens/core/testing';
import { expect } from 'vitest';

/** A batch of `n` items shaped for `model`, uniform in [low, high). */
export function randomInput(model: Model, n: number, seed = 7, low = -1, high = 1): Tensor {
  const shape = [n, ...model.info.inputShape];
  return { data: createRng(seed, 3).fillUniform(new Float32Array(sizeOf(shape)), low, high), shape };
}

/** max |a − b| ≤ rtol · max |b| + atol, with a message naming the worst index. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol = 1e-4,
  atol = 1e-6,
): void {
  expect(actual.length).toBe(expected.length);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  let worst = 0;
  let at = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  expect(worst, `worst at ${at}: ${actual[at]} vs ${expected[at]}`).toBeLessThanOrEqual(rtol * scale + atol);
}

/** Σ of each item. */
export function sums(t: Tensor): number[] {
  const m = sizeOf(t.shape.slice(1));
  return Array.from({ length: t.shape[0] }, (_, i) =>
    t.data.subarray(i * m, (i + 1) * m).reduce((a, b) => a + b, 0),
  );
}

/** Output `[i, c]` of an `N×K` tensor. */
export const at = (t: Tensor, i: number, c: number): number => t.data[i * t.shape[1] + c];

/**
 * The spec with every BatchNorm that follows a linear layer folded into it by hand:
 * W·γ/√(σ²+ε) and (b − μ)·γ/√(σ²+ε) + β, in float64, as an independent check of the canonizer.
 */
export function foldBatchNormSpec(spec: ToySpec): ToySpec {
  const layers: ToyLayer[] = [];
  for (const l of spec.layers) {
    const prev = layers[layers.length - 1];
    if (
      l.type === 'batchnorm' &&
      prev &&
      (prev.type === 'conv' || prev.type === 'dense') &&
      (prev.activation ?? 'linear') === 'linear'
    ) {
      const scale = l.gamma.map((g, c) => g / Math.sqrt(l.variance[c] + l.epsilon));
      const per = prev.weight.length / scale.length;
      const weight = prev.weight.map((w, j) => w * scale[Math.floor(j / per)]);
      const bias = scale.map((s, c) => ((prev.bias?.[c] ?? 0) - l.mean[c]) * s + l.beta[c]);
      layers[layers.length - 1] = { ...prev, weight, bias };
      continue;
    }
    layers.push(l);
  }
  return { ...spec, name: `${spec.name}-folded`, layers };
}

type Vec = Float64Array;

function matVec(w: Vec, x: Vec, out: number, inn: number): Vec {
  const z = new Float64Array(out);
  for (let o = 0; o < out; o++) for (let i = 0; i < inn; i++) z[o] += w[o * inn + i] * x[i];
  return z;
}

function matTVec(w: Vec, g: Vec, out: number, inn: number): Vec {
  const r = new Float64Array(inn);
  for (let o = 0; o < out; o++) for (let i = 0; i < inn; i++) r[i] += w[o * inn + i] * g[o];
  return r;
}

/**
 * Backward of a bias-free dense layer under `epsilon` (ε = 0 is LRP-0), `z-plus` or the gradient.
 * z⁺ as core states it: positive contributions only, x ≥ 0 through W⁺ and x < 0 through W⁻.
 */
function denseRule(rule: LinearRule | undefined, w: Vec, x: Vec, g: Vec, out: number, inn: number): Vec {
  if (!rule || rule.kind === 'gradient') return matTVec(w, g, out, inn);
  if (rule.kind !== 'epsilon' && rule.kind !== 'z-plus')
    throw new Error(`residual fixture: rule ${rule.kind} not implemented`);
  const z = matVec(w, x, out, inn);
  if (rule.kind === 'z-plus') {
    const wp = w.map((v) => Math.max(v, 0));
    const wn = w.map((v) => Math.min(v, 0));
    const xp = x.map((v) => Math.max(v, 0));
    const xn = x.map((v) => Math.min(v, 0));
    const zp = matVec(wp, xp, out, inn).map((v, o) => v + matVec(wn, xn, out, inn)[o]);
    const s = z.map((v, o) => (zp[o] === 0 ? 0 : (v * g[o]) / zp[o]));
    const gp = matTVec(wp, s, out, inn);
    const gn = matTVec(wn, s, out, inn);
    return x.map((v, i) => (v >= 0 ? gp[i] : gn[i]));
  }
  const eps = rule.epsilon;
  const s = z.map((v, o) => {
    const d = v + eps * (v >= 0 ? 1 : -1);
    return d === 0 ? 0 : (v * g[o]) / d;
  });
  return matTVec(w, s, out, inn);
}

/**
 * `input [4]` → `fc1` dense 4→4 (fused ReLU) and `skip` dense 4→4 (linear), both reading the input →
 * `add` → `relu` → `fc2` dense 4→3. Bias-free, so LRP-0 conserves; the addition carries no rule.
 */
export function residualModel(seed = 11): Model {
  const rng = createRng(seed, 5);
  const w = (n: number): Vec => Float64Array.from(rng.fillNormal(new Float32Array(n), 0, 0.7));
  const w1 = w(16);
  const ws = w(16);
  const w2 = w(12);
  const layers: LayerInfo[] = [
    { name: 'input', kind: 'input', op: 'Input', outputShape: [4], inputs: [] },
    {
      name: 'fc1',
      kind: 'dense',
      op: 'Dense',
      outputShape: [4],
      inputs: ['input'],
      activation: 'relu',
      hasWeights: true,
      hasBias: false,
    },
    {
      name: 'skip',
      kind: 'dense',
      op: 'Dense',
      outputShape: [4],
      inputs: ['input'],
      activation: 'linear',
      hasWeights: true,
      hasBias: false,
    },
    { name: 'add', kind: 'add', op: 'Add', outputShape: [4], inputs: ['fc1', 'skip'] },
    { name: 'relu', kind: 'activation', op: 'ReLU', outputShape: [4], inputs: ['add'] },
    {
      name: 'fc2',
      kind: 'dense',
      op: 'Dense',
      outputShape: [3],
      inputs: ['relu'],
      activation: 'linear',
      hasWeights: true,
      hasBias: false,
    },
  ];
  const forwardOne = (x: Vec) => {
    const z1 = matVec(w1, x, 4, 4);
    const a1 = z1.map((v) => Math.max(v, 0));
    const s = matVec(ws, x, 4, 4);
    const add = a1.map((v, i) => v + s[i]);
    const r = add.map((v) => Math.max(v, 0));
    return { z1, a1, s, add, r, out: matVec(w2, r, 3, 4) };
  };
  const rows = (t: Tensor): Vec[] =>
    Array.from({ length: t.shape[0] }, (_, i) => Float64Array.from(t.data.subarray(i * 4, (i + 1) * 4)));
  const pack = (vs: Vec[], k: number): Tensor => {
    const data = new Float32Array(vs.length * k);
    vs.forEach((v, i) => {
      data.set(v, i * k);
    });
    return { data, shape: [vs.length, k] };
  };
  return {
    info: { name: 'residual', inputShape: [4], layout: 'NCHW', numClasses: 3, outputKind: 'logits' },
    capabilities: new Set<Capability>(['layers', 'gradients', 'linear-rules']),
    layers: () => layers,
    async forward(input) {
      return pack(
        rows(input).map((x) => forwardOne(x).out),
        3,
      );
    },
    async backward(req: BackwardRequest): Promise<BackwardResult> {
      if (req.seed.kind !== 'output') throw new Error('residual fixture: output seeds only');
      const lin = req.rules?.linear ?? {};
      const xs = rows(req.input);
      const grads: Vec[] = [];
      xs.forEach((x, n) => {
        const f = forwardOne(x);
        const g = Float64Array.from(req.seed.cotangent.data.subarray(n * 3, (n + 1) * 3));
        const gr = denseRule(lin.fc2, w2, f.r, g, 3, 4);
        const gAdd = gr.map((v, i) => (f.add[i] > 0 ? v : 0));
        // The addition passes the same cotangent to both addends: relevance a ⊙ g and b ⊙ g.
        const g1 = gAdd.map((v, i) => (f.z1[i] > 0 ? v : 0));
        const gx = denseRule(lin.fc1, w1, x, g1, 4, 4).map(
          (v, i) => v + denseRule(lin.skip, ws, x, gAdd, 4, 4)[i],
        );
        grads.push(gx);
      });
      const inputGradient = pack(grads, 4);
      const result: { -readonly [K in keyof BackwardResult]: BackwardResult[K] } = {
        output: pack(
          xs.map((x) => forwardOne(x).out),
          3,
        ),
        inputGradient,
      };
      if (req.relevance)
        result.inputRelevance = {
          data: inputGradient.data.map((g, i) => g * req.input.data[i]),
          shape: [...req.input.shape],
        };
      return result;
    },
    dispose() {},
  };
}
