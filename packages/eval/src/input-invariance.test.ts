import { explain, reduceChannels } from '@xlens/core';
import { randomInput, referenceModel, tinyCnn, tinyDense } from '@xlens/core/testing';
import { gradient, gradientXInput, integratedGradients } from '@xlens/gradients';
import { deeplift, deepTaylor, lrp } from '@xlens/relevance';
import { describe, expect, it } from 'vitest';
import { inputInvariance } from './input-invariance.js';

// A dense first layer absorbs a constant shift exactly; tinyCnn's first conv pads with zeros.
const model = referenceModel(tinyDense(), { inputRange: [0, 1] });
const input = randomInput(model, 3, 7);

describe('input-invariance', () => {
  it('holds for the gradient (the maps are the same function of the same weights)', async () => {
    const r = await inputInvariance.run({ model, input, explainer: gradient });
    expect(r.statistics['logit-difference']).toBeLessThan(1e-5);
    expect(r.score).toBeLessThan(1e-5);
    expect(r.verdict).toBe('pass');
  });

  it('fails for Gradient⊙Input, whose map moves by exactly m·∇f as Kindermans et al. prove', async () => {
    const m = -1;
    const r = await inputInvariance.run({ model, input, explainer: gradientXInput }, { shift: m });
    expect(r.verdict).toBe('fail');
    expect(r.score).toBeGreaterThan(0.2);
    // The expected difference: Σ|m·g| / max(Σ|x⊙g|, Σ|(x+m)⊙g|) per item, g the channel-summed gradient.
    const g = (await explain(gradient, model, input, r.targets ?? 'top1')).map;
    const gx = reduceChannels(
      { data: g.data.map((v, k) => v * input.data[k]), shape: g.shape },
      'NCHW',
      'sum',
    );
    const gs = reduceChannels(g, 'NCHW', 'sum');
    const size = gs.data.length / 3;
    for (let i = 0; i < 3; i++) {
      let d = 0;
      let a = 0;
      let b = 0;
      for (let p = i * size; p < (i + 1) * size; p++) {
        d += Math.abs(m * gs.data[p]);
        a += Math.abs(gx.data[p]);
        b += Math.abs(gx.data[p] + m * gs.data[p]);
      }
      // An item whose target has no active path has zero maps on both models (difference 0).
      expect(r.perItem['relative-difference'][i]).toBeCloseTo(Math.max(a, b) > 0 ? d / Math.max(a, b) : 0, 5);
    }
  });

  it('holds for Integrated Gradients when the baseline moves with the input, fails when it stays at zero', async () => {
    const options = { explainerOptions: { steps: 16 } };
    const moved = await inputInvariance.run({ model, input, explainer: integratedGradients, ...options });
    const kept = await inputInvariance.run(
      { model, input, explainer: integratedGradients, ...options },
      { reference: 'fixed' },
    );
    expect(moved.verdict).toBe('pass');
    expect(moved.score).toBeLessThan(1e-4);
    expect(kept.verdict).toBe('fail');
    // A black baseline follows the shifted input range even in `shifted` mode's absence of overrides.
    const black = await inputInvariance.run({
      model,
      input,
      explainer: integratedGradients,
      explainerOptions: { steps: 16, baseline: 'black' },
    });
    expect(black.verdict).toBe('pass');
  });

  it('Deep Taylor (z-box) and DeepLIFT pass only when their bounds / reference move; LRP-ε, having none, fails', async () => {
    for (const [explainer, explainerOptions] of [
      [deepTaylor, {}],
      [deeplift, {}],
    ] as const) {
      const moved = await inputInvariance.run({ model, input, explainer, explainerOptions });
      const kept = await inputInvariance.run(
        { model, input, explainer, explainerOptions },
        { reference: 'fixed' },
      );
      expect(moved.verdict, explainer.id).toBe('pass');
      expect(kept.verdict, explainer.id).toBe('fail');
    }
    const eps = await inputInvariance.run({
      model,
      input,
      explainer: lrp,
      explainerOptions: { composite: 'epsilon' },
    });
    expect(eps.verdict).toBe('fail');
  });

  it('is undecided, saying why, when the first convolution pads with zeros', async () => {
    const cnn = referenceModel(tinyCnn(), { inputRange: [0, 1] });
    const r = await inputInvariance.run({ model: cnn, input: randomInput(cnn, 2, 1), explainer: gradient });
    expect(r.verdict).toBe('undecided');
    expect(r.summary).toMatch(/not equivalent.*pads with zeros/);
    expect(r.statistics['logit-difference']).toBeGreaterThan(1e-3);
  });

  it('rejects a zero shift before any compute', async () => {
    await expect(inputInvariance.run({ model, input, explainer: gradient }, { shift: 0 })).rejects.toThrow(
      /shift = 0/,
    );
  });
});
