import { describe, expect, it } from 'vitest';
import { oneMap, selfAndNoise, smoothMap } from '../test/fixtures.js';
import { spearman } from './spearman.js';
import { spearmanAbs } from './spearman-abs.js';

describe('spearman-abs', () => {
  it('is 1 for a map with itself and drops as noise grows', async () => {
    const [self, light, heavy] = await selfAndNoise(spearmanAbs, {});
    expect(self).toBeCloseTo(1, 10);
    expect(light).toBeLessThan(1);
    expect(heavy).toBeLessThan(light);
    expect(spearmanAbs.direction).toBe('neutral');
  });
});

describe('spearman-abs against spearman', () => {
  it('ignores the signs that spearman sees', async () => {
    const m = smoothMap();
    const flipped = m.map((v) => -v);
    expect((await spearman.evaluate({ maps: oneMap(m), reference: oneMap(flipped) })).scores[0]).toBeCloseTo(
      -1,
      10,
    );
    expect(
      (await spearmanAbs.evaluate({ maps: oneMap(m), reference: oneMap(flipped) })).scores[0],
    ).toBeCloseTo(1, 10);
  });
});
