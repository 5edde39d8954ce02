import { gradient, gradientXInput, integratedGradients } from '@xlens/gradients';
import { deeplift, lrp } from '@xlens/relevance';
import { describe, expect, it } from 'vitest';
import { implementationInvariance, implementationPair } from './implementation-invariance.js';

describe('implementation-invariance', () => {
  it('builds two networks that compute the same function but differ inside', async () => {
    const { f, g } = implementationPair();
    // A grid over [−2, 5]² including the kinks at x₁ = 1 and x₂ = 0.
    const pts: number[] = [];
    for (let a = -2; a <= 5; a += 0.5) for (let b = -2; b <= 5; b += 0.5) pts.push(a, b);
    const x = { data: Float32Array.from(pts), shape: [pts.length / 2, 1, 1, 2] };
    const [yf, yg] = [await f.forward(x), await g.forward(x)];
    expect(Array.from(yf.data)).toEqual(Array.from(yg.data));
    const hidden = async (m: typeof f) => (await m.capture?.(x, ['hidden']))?.activations.hidden.data;
    expect(Array.from((await hidden(f)) ?? [])).not.toEqual(Array.from((await hidden(g)) ?? []));
  });

  it('holds for the gradient, Gradient⊙Input and Integrated Gradients', async () => {
    for (const explainer of [gradient, gradientXInput]) {
      const r = await implementationInvariance.run({ explainer });
      expect(r.verdict, explainer.id).toBe('pass');
      expect(r.score).toBe(0);
    }
    const ig = await implementationInvariance.run({
      explainer: integratedGradients,
      explainerOptions: { steps: 64 },
    });
    expect(ig.verdict).toBe('pass');
    // Exact IG at x = (3, 1) from 0: the function is 2t − 1 on the path for t > ½, so (1.5, −0.5).
    expect(ig.perItem['f/x1'][0]).toBeCloseTo(1.5, 2);
    expect(ig.perItem['f/x2'][0]).toBeCloseTo(-0.5, 2);
  });

  it('fails for DeepLIFT with the discrete gradients computed by hand', async () => {
    const r = await implementationInvariance.run({ explainer: deeplift });
    expect(r.verdict).toBe('fail');
    // At x = (3, 1), zero reference: f gives (1.5, −0.5) and g gives (2, −1) (both sum to f = 1).
    expect(r.perItem['f/x1'][0]).toBeCloseTo(1.5, 5);
    expect(r.perItem['f/x2'][0]).toBeCloseTo(-0.5, 5);
    expect(r.perItem['g/x1'][0]).toBeCloseTo(2, 5);
    expect(r.perItem['g/x2'][0]).toBeCloseTo(-1, 5);
  });

  it('fails for LRP-α2β1 and holds for LRP-ε, which equals Gradient⊙Input on ReLU networks', async () => {
    const ab = await implementationInvariance.run({
      explainer: lrp,
      explainerOptions: { rules: { hidden: 'alpha2-beta1', sum: 'alpha2-beta1', logits: 'alpha2-beta1' } },
    });
    expect(ab.verdict).toBe('fail');
    expect(ab.score).toBeGreaterThan(0.1);
    const eps = await implementationInvariance.run({
      explainer: lrp,
      explainerOptions: { composite: 'epsilon' },
    });
    expect(eps.verdict).toBe('pass');
  });
});
