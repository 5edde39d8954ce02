import { referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { correlation } from '../test/toys.js';
import { inversion } from './inversion.js';
import { synthesisSnapshots } from './snapshots.js';

const image = (n: number) => ({
  data: Float32Array.from(
    { length: n * 3 * 8 * 8 },
    (_, i) => 0.5 + 0.3 * Math.sin(i * 0.61) * Math.cos(i * 0.13),
  ),
  shape: [n, 3, 8, 8],
});

describe('inversion', () => {
  const model = referenceModel(tinyCnn(), { inputRange: [0, 1] });

  it('of the input layer reproduces the image', async () => {
    const x = image(2);
    const r = await inversion.explain(model, x, 0, { layer: 'input', tv: 0, steps: 300 });
    let worst = 0;
    for (let i = 0; i < x.data.length; i++) worst = Math.max(worst, Math.abs(r.map.data[i] - x.data[i]));
    expect(worst).toBeLessThan(0.02);
    for (const v of r.extras.objective as number[]) expect(v).toBeGreaterThan(-1e-3);
  });

  it('of a hidden layer matches its code ever better and resembles the image', async () => {
    const x = image(1);
    const r = await inversion.explain(model, x, 0, { layer: 'conv1', steps: 200, snapshotEvery: 50 });
    const trace = synthesisSnapshots(r).map((s) => s.objective[0]);
    expect(trace[trace.length - 1]).toBeGreaterThan(trace[0]);
    expect(trace[trace.length - 1]).toBeGreaterThan(-0.05);
    expect(correlation(r.map.data, x.data)).toBeGreaterThan(0.5);
    expect(r.options.layer).toBe('conv1');
  });

  it('defaults to the last spatial layer and refuses to start at the answer', async () => {
    const r = await inversion.explain(model, image(1), 0, { steps: 2 });
    expect(r.options.layer).toBe('relu2');
    await expect(inversion.explain(model, image(1), 0, { init: 'input' })).rejects.toMatchObject({
      code: 'invalid-option',
    });
  });
});
