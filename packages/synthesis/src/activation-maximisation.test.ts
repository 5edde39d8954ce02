import { referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { constant, correlation, ringTemplate, templateNet } from '../test/toys.js';
import { activationMaximisation } from './activation-maximisation.js';
import { synthesisSnapshots } from './snapshots.js';

describe('activation-maximisation', () => {
  const template = ringTemplate(8, 8);
  const net = templateNet(template, 1, 8, 8);

  it('finds the template of a unit that is one (pixel space, L2 prior: x* = template / 2λ)', async () => {
    const model = referenceModel(net);
    const r = await activationMaximisation.explain(model, constant(1, [1, 8, 8], 0), 0, {
      objective: 'unit:unit:0',
      parametrization: 'pixel',
      jitter: 0,
      scales: [],
      rotate: 0,
      l2: 0.5,
      steps: 200,
      learningRate: 0.05,
    });
    expect(correlation(r.map.data, template)).toBeGreaterThan(0.99);
    // The L2 optimum of ⟨t, x⟩ − λ‖x‖² is t / 2λ = t.
    for (let p = 0; p < template.length; p++) expect(r.map.data[p]).toBeCloseTo(template[p], 1);
  });

  it('finds it with the default recipe too (Fourier parametrisation, jitter, scale, rotation)', async () => {
    const ring = ringTemplate(32, 32, 3);
    const model = referenceModel(templateNet(ring, 3, 32, 32), { inputRange: [0, 1] });
    const r = await activationMaximisation.explain(model, constant(1, [3, 32, 32], 0.5), 0, {
      objective: 'unit:unit:0',
      steps: 300,
    });
    expect(r.map.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(correlation(r.map.data, ring)).toBeGreaterThan(0.9);
  });

  it('raises the objective step by step and keeps snapshots every k steps', async () => {
    const model = referenceModel(tinyCnn(), { inputRange: [-1, 1] });
    const r = await activationMaximisation.explain(model, constant(2, [3, 8, 8], 0), [1, 2], {
      steps: 30,
      snapshotEvery: 10,
    });
    const snaps = synthesisSnapshots(r);
    expect(snaps.map((s) => s.step)).toEqual([10, 20, 30]);
    expect(snaps[2].images.data).toEqual(r.map.data);
    for (let i = 0; i < 2; i++) expect(snaps[2].objective[i]).toBeGreaterThan(snaps[0].objective[i]);
    expect(r.options.objective).toBe('target');
  });

  it('rejects bad objectives and settings before compute, naming them', async () => {
    const model = referenceModel(tinyCnn());
    const x = constant(1, [3, 8, 8], 0);
    await expect(activationMaximisation.explain(model, x, 0, { objective: 'class:9' })).rejects.toMatchObject(
      {
        code: 'invalid-option',
        message: expect.stringMatching(/class 9 is out of range/),
      },
    );
    await expect(
      activationMaximisation.explain(model, x, 0, { objective: 'channel:nope:1' }),
    ).rejects.toMatchObject({
      code: 'unknown-layer',
    });
    await expect(activationMaximisation.explain(model, x, 0, {})).rejects.toMatchObject({
      message: expect.stringMatching(/has no inputRange; pass range/),
    });
    await expect(
      activationMaximisation.explain(model, x, 0, { range: [0, 1], decay: 0.1 }),
    ).rejects.toMatchObject({ message: expect.stringMatching(/decay act on pixels/) });
  });
});
