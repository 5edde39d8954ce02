import { createRng, type Tensor } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import { hog } from '../src/hog.js';
import { pearson } from '../src/pearson.js';
import { spearman } from '../src/spearman.js';
import { spearmanAbs } from '../src/spearman-abs.js';
import { ssim } from '../src/ssim.js';
import { topKIntersection } from '../src/top-k-intersection.js';

/** A smooth 24×24 map: a bright blob and a dimmer ridge, signed. */
function smoothMap(): Float32Array {
  const m = new Float32Array(24 * 24);
  for (let y = 0; y < 24; y++)
    for (let x = 0; x < 24; x++)
      m[y * 24 + x] = Math.exp(-((x - 8) ** 2 + (y - 10) ** 2) / 18) - 0.5 * Math.exp(-((x - 17) ** 2) / 6);
  return m;
}

function withNoise(m: Float32Array, level: number, seed: number): Float32Array {
  const z = createRng(seed).fillNormal(new Float32Array(m.length));
  return m.map((v, i) => v + level * z[i]);
}

const one = (m: Float32Array): Tensor => ({ data: m, shape: [1, 24, 24] });

// The similarity metrics of the sanity checks, with the options the tests use.
const cases = [
  { metric: spearman, options: {} },
  { metric: spearmanAbs, options: {} },
  { metric: pearson, options: {} },
  { metric: ssim, options: {} },
  { metric: hog, options: { cellSize: 4 } },
  { metric: topKIntersection, options: { fraction: 0.05 } },
] as const;

describe('similarity metrics', () => {
  for (const { metric, options } of cases) {
    it(`${metric.id}: a map with itself scores 1, and the score drops as noise grows`, async () => {
      const m = smoothMap();
      const self = await metric.evaluate({ maps: one(m), reference: one(m) }, options);
      expect(self.scores[0]).toBeCloseTo(1, 10);
      const small = await metric.evaluate({ maps: one(m), reference: one(withNoise(m, 0.05, 1)) }, options);
      const large = await metric.evaluate({ maps: one(m), reference: one(withNoise(m, 1, 1)) }, options);
      expect(small.scores[0]).toBeLessThan(1);
      expect(large.scores[0]).toBeLessThan(small.scores[0]);
      expect(metric.direction).toBe('neutral');
    });
  }

  it('spearman-abs ignores signs that spearman sees', async () => {
    const m = smoothMap();
    const flipped = m.map((v) => -v);
    expect((await spearman.evaluate({ maps: one(m), reference: one(flipped) })).scores[0]).toBeCloseTo(
      -1,
      10,
    );
    expect((await spearmanAbs.evaluate({ maps: one(m), reference: one(flipped) })).scores[0]).toBeCloseTo(
      1,
      10,
    );
  });

  it('pearson and spearman have no score for a constant map, and say so', async () => {
    const got = await pearson.evaluate({
      maps: one(new Float32Array(576).fill(2)),
      reference: one(smoothMap()),
    });
    expect(got.scores[0]).toBeNaN();
    expect(got.warnings[0]).toMatch(/constant/);
  });

  it('hog refuses cells larger than the map before compute', async () => {
    await expect(
      hog.evaluate({ maps: one(smoothMap()), reference: one(smoothMap()) }, { cellSize: 30 }),
    ).rejects.toMatchObject({ code: 'invalid-option' });
  });

  it('checks that the reference has the maps’ shape', async () => {
    await expect(
      ssim.evaluate({
        maps: one(smoothMap()),
        reference: { data: new Float32Array(24 * 23), shape: [1, 24, 23] },
      }),
    ).rejects.toMatchObject({ code: 'invalid-shape' });
  });
});
