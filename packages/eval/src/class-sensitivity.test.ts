import { createRng } from '@xlens/core';
import { randomInput, referenceModel, type ToySpec } from '@xlens/core/testing';
import { gradient, guidedBackprop } from '@xlens/gradients';
import { describe, expect, it } from 'vitest';
import { sobel } from '../test/check-fixtures.js';
import { classSensitivity } from './class-sensitivity.js';

/**
 * `input [3, 8, 8]` → conv (ReLU) → max-pool 2 → seven more 3×3 convs with ReLU → dense 10, He
 * initialised, no biases: deep enough for Nie et al.'s analysis (Guided Backprop's backward ReLUs
 * keep only what reconstructs the input) to show.
 */
function deepCnn(seed: number): ToySpec {
  const rng = createRng(seed, 3);
  const ch = 8;
  const conv = (name: string, i: number) => ({
    type: 'conv' as const,
    name,
    inChannels: i,
    outChannels: ch,
    kernel: 3,
    padding: 'same' as const,
    weight: Array.from(rng.fillNormal(new Float32Array(ch * i * 9), 0, Math.sqrt(2 / (i * 9)))),
    bias: Array(ch).fill(0),
    activation: 'relu' as const,
  });
  const layers: ToySpec['layers'][number][] = [conv('c0', 3), { type: 'max-pool', name: 'pool', size: 2 }];
  for (let d = 1; d < 8; d++) layers.push(conv(`c${d}`, ch));
  const features = ch * 16;
  layers.push({ type: 'flatten', name: 'flat' });
  layers.push({
    type: 'dense',
    name: 'fc',
    inFeatures: features,
    outFeatures: 10,
    weight: Array.from(rng.fillNormal(new Float32Array(10 * features), 0, Math.sqrt(1 / features))),
    bias: Array(10).fill(0),
  });
  return { name: 'deep-cnn', inputShape: [3, 8, 8], numClasses: 10, layers };
}

const model = referenceModel(deepCnn(1), { inputRange: [0, 1] });
const input = randomInput(model, 4, 3);

describe('class-sensitivity', () => {
  it('the gradient changes with the class (pass); Guided Backprop does not (fail), as Nie et al. predict', async () => {
    const g = await classSensitivity.run({ model, input, explainer: gradient });
    const gb = await classSensitivity.run({ model, input, explainer: guidedBackprop });
    expect(g.verdict).toBe('pass');
    expect(g.score).toBeLessThan(0.5);
    expect(gb.verdict).toBe('fail');
    expect(gb.score).toBeGreaterThan(0.9);
    expect(gb.summary).toMatch(/^spearman-abs = 0\.9\d* ≥ 0\.8: fail$/);
  });

  it('explains the least likely class second, and a class-blind edge map scores 1', async () => {
    const out = await model.forward(input);
    const r = await classSensitivity.run({ model, input, explainer: sobel });
    for (let i = 0; i < 4; i++) {
      const row = Array.from(out.data.subarray(i * 10, (i + 1) * 10));
      expect(r.perItem['least-likely-class'][i]).toBe(row.indexOf(Math.min(...row)));
      expect(r.targets?.[i]).toBe(row.indexOf(Math.max(...row)));
    }
    expect(r.score).toBe(1);
    expect(r.verdict).toBe('fail');
  });
});
