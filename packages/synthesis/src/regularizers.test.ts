import { referenceModel } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { constant, templateNet } from '../test/toys.js';
import { activationMaximisation } from './activation-maximisation.js';
import type { Geometry, ValueRange } from './image-space.js';
import {
  blurInPlace,
  clipLowContribution,
  clipLowNorm,
  decayTowardsCentre,
  normPrior,
  totalVariation,
} from './regularizers.js';

const g: Geometry = { n: 1, c: 2, h: 5, w: 6, layout: 'NCHW', size: 60 };
const range: ValueRange = {
  lo: Float32Array.of(0, 0),
  hi: Float32Array.of(1, 1),
  centre: Float32Array.of(0.5, 0.5),
  bounded: true,
};
const image = (seed: number) =>
  Float32Array.from({ length: g.size }, (_, i) => 0.5 + 0.4 * Math.sin(seed * 13.1 + i * 2.7));

/** Central finite differences of f at x. */
function numericGradient(f: (x: Float32Array) => number, x: Float32Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const a = x.slice();
    const b = x.slice();
    a[i] += 1e-3;
    b[i] -= 1e-3;
    out[i] = (f(a) - f(b)) / 2e-3;
  }
  return out;
}

const expectGradient = (got: Float32Array, want: Float64Array) => {
  for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(want[i], 2);
};

describe('priors: values and gradients', () => {
  for (const beta of [2, 1.5]) {
    it(`total variation (β = ${beta}) has the gradient of its value`, () => {
      const x = image(1);
      const grad = new Float32Array(g.size);
      totalVariation(x, g, beta, grad, 1);
      expectGradient(
        grad,
        numericGradient((v) => totalVariation(v, g, beta), x),
      );
    });
  }
  it('the norm prior (α = 2, 6) has the gradient of its value', () => {
    for (const alpha of [2, 6]) {
      const x = image(2);
      const grad = new Float32Array(g.size);
      normPrior(x, g, range, alpha, grad, 1);
      expectGradient(
        grad,
        numericGradient((v) => normPrior(v, g, range, alpha), x),
      );
    }
  });
});

describe('pixel operators (Yosinski et al., 2015)', () => {
  it('decay pulls every value towards the centre by the factor', () => {
    const x = image(3);
    const before = x.slice();
    decayTowardsCentre(x, g, range, 0.25);
    for (let i = 0; i < x.length; i++) expect(x[i] - 0.5).toBeCloseTo(0.75 * (before[i] - 0.5), 6);
  });
  it('blur lowers total variation and keeps a constant image constant', () => {
    const x = image(4);
    const tv = totalVariation(x, g, 2);
    blurInPlace(x, g, 1);
    expect(totalVariation(x, g, 2)).toBeLessThan(tv / 2);
    const flat = new Float32Array(g.size).fill(0.3);
    blurInPlace(flat, g, 1);
    for (const v of flat) expect(v).toBeCloseTo(0.3, 6);
  });
  it('norm clipping resets the share of pixels of smallest norm, keeping the rest', () => {
    const x = image(5);
    const before = x.slice();
    clipLowNorm(x, g, range, 40);
    const plane = g.h * g.w;
    const norms = Array.from({ length: plane }, (_, p) =>
      Math.hypot(before[p] - 0.5, before[plane + p] - 0.5),
    );
    const order = norms.map((_, p) => p).sort((a, b) => norms[a] - norms[b]);
    order.forEach((p, rank) => {
      const reset = rank < 12; // 40% of 30 pixels
      expect(x[p]).toBe(reset ? 0.5 : before[p]);
      expect(x[plane + p]).toBe(reset ? 0.5 : before[plane + p]);
    });
  });
  it('contribution clipping resets the pixels whose |Σ (x − c)·∇| is below the percentile', () => {
    const plane = g.h * g.w;
    const x = new Float32Array(g.size).fill(0.8);
    // Contribution of pixel p: 0.3·p from channel 0, nothing from channel 1.
    const grad = Float32Array.from({ length: g.size }, (_, i) => (i < plane ? i : 0));
    clipLowContribution(x, grad, g, range, 50);
    for (let p = 0; p < plane; p++) {
      const kept = p >= plane / 2; // the 15 of 30 smallest contributions go
      expect(x[p]).toBe(kept ? Math.fround(0.8) : 0.5);
      expect(x[plane + p]).toBe(kept ? Math.fround(0.8) : 0.5);
    }
  });
});

describe('regularisers inside activation maximisation', () => {
  // Unequal weights, so pixel norms and contributions differ (no ties at the percentiles).
  const weights = Array.from({ length: 144 }, (_, i) => Math.sin(i * 0.7) * (0.2 + (i % 5) / 5));
  const model = referenceModel(templateNet(weights, 1, 12, 12), { inputRange: [0, 1] });
  const start = constant(1, [1, 12, 12], 0.5);
  const run = (options: Record<string, unknown>) =>
    activationMaximisation.explain(model, start, 0, {
      objective: 'unit:unit:0',
      parametrization: 'pixel',
      jitter: 0,
      scales: [],
      rotate: 0,
      steps: 60,
      learningRate: 0.005,
      ...options,
    });
  const geo: Geometry = { n: 1, c: 1, h: 12, w: 12, layout: 'NCHW', size: 144 };
  const unitRange: ValueRange = { ...range, centre: Float32Array.of(0.5) };

  it('TV lowers total variation', async () => {
    const plain = await run({});
    const smooth = await run({ tv: 0.5 });
    expect(totalVariation(smooth.map.data, geo, 2)).toBeLessThan(
      0.5 * totalVariation(plain.map.data, geo, 2),
    );
  });
  it('L2 lowers the distance to the centre', async () => {
    const plain = await run({});
    const l2 = await run({ l2: 2 });
    expect(normPrior(l2.map.data, geo, unitRange, 2)).toBeLessThan(
      0.5 * normPrior(plain.map.data, geo, unitRange, 2),
    );
  });
  it('norm clipping zeroes (resets to the centre) the low-norm pixels', async () => {
    const r = await run({ normClip: 50 });
    expect(r.map.data.filter((v) => v === 0.5).length).toBeGreaterThanOrEqual(72);
  });
  it('blur every k steps and decay smooth and shrink the image', async () => {
    const plain = await run({});
    const blurred = await run({ blurEvery: 2, blurSigma: 1 });
    expect(totalVariation(blurred.map.data, geo, 2)).toBeLessThan(totalVariation(plain.map.data, geo, 2));
    const decayed = await run({ decay: 0.1 });
    expect(normPrior(decayed.map.data, geo, unitRange, 2)).toBeLessThan(
      normPrior(plain.map.data, geo, unitRange, 2),
    );
  });
  it('mean-image initialisation starts at the given image', async () => {
    const mean = { data: Float32Array.from({ length: 144 }, (_, i) => (i % 12) / 12), shape: [1, 1, 12, 12] };
    const r = await run({ init: 'input', learningRate: 0, steps: 1 });
    expect(r.map.data).toEqual(start.data);
    const m = await activationMaximisation.explain(model, mean, 0, {
      objective: 'unit:unit:0',
      parametrization: 'pixel',
      init: 'input',
      learningRate: 0,
      steps: 1,
      jitter: 0,
      scales: [],
      rotate: 0,
    });
    expect(m.map.data).toEqual(mean.data);
  });
});
