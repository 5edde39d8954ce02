import { assertClose, randomInput, referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { clear, dominantClassMap } from './clear.js';
import { gradCam } from './grad-cam.js';

describe('clear', () => {
  const model = referenceModel(tinyCnn());
  const x = randomInput(model, 2, 91);

  it('takes per pixel the maximum over the top classes’ Grad-CAMs and the class attaining it', async () => {
    const out = await model.forward(x);
    const r = await clear.explain(model, x, 'top1', { classes: 3, relu: false, batchSize: 4 });
    const candidates = r.extras.candidateClasses as number[];
    expect(candidates).toHaveLength(6);
    for (let b = 0; b < 2; b++) {
      const row = Array.from(out.data.slice(b * 5, b * 5 + 5));
      const ranked = row
        .map((_, i) => i)
        .sort((i, j) => row[j] - row[i])
        .slice(0, 3);
      expect(candidates.slice(b * 3, b * 3 + 3)).toEqual(ranked);
    }
    const perClass = await Promise.all(
      [0, 1, 2].map((j) => gradCam.explain(model, x, [candidates[j], candidates[3 + j]], { relu: false })),
    );
    const classes = dominantClassMap(r);
    expect(classes.shape).toEqual([2, 8, 8]);
    const response = new Float32Array(128);
    for (let i = 0; i < 128; i++) {
      const b = Math.floor(i / 64);
      const values = perClass.map((m) => m.map.data[i]);
      const j = values.indexOf(Math.max(...values));
      response[i] = values[j];
      expect(classes.data[i]).toBe(candidates[b * 3 + j]);
    }
    assertClose('dominant response', r.map, { data: response, shape: [2, 8, 8] }, 1e-6);
    expect(r.coarse!.shape).toEqual([2, 4, 4]);
  });

  it('marks pixels where no class responds positively with −1 and zero response (relu on)', async () => {
    const r = await clear.explain(model, x, 'top1', { classes: 5 });
    const classes = dominantClassMap(r);
    for (let i = 0; i < r.map.data.length; i++) {
      expect(r.map.data[i]).toBeGreaterThanOrEqual(0);
      if (r.map.data[i] === 0) expect(classes.data[i]).toBe(-1);
      else expect(classes.data[i]).toBeGreaterThanOrEqual(0);
    }
    const raw = await clear.explain(model, x, 'top1', { classes: 5, upsample: false });
    expect(dominantClassMap(raw).shape).toEqual([2, 4, 4]);
  });
});
