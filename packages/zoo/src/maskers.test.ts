import { existsSync, readFileSync } from 'node:fs';
import { initTfjsBackend, loadTfjsModel } from '@xlens/backend-tfjs';
import { describe, expect, it } from 'vitest';
import { ZOO_MASKER_NAMES, zooMaskerFor, zooMaskerPath } from './maskers.js';
import { zooModel } from './models.js';
import { sampleImages } from './samples.js';

describe('zoo masking models', () => {
  it('ships the shapes masker, trained against shapes, with one 16×16 mask per class', () => {
    expect([...ZOO_MASKER_NAMES]).toEqual(['shapes-masker']);
    expect(zooMaskerFor('shapes')).toBe('shapes-masker');
    expect(zooMaskerFor('mnist')).toBeUndefined();
    const path = zooMaskerPath();
    expect(existsSync(path)).toBe(true);
    const meta = JSON.parse(readFileSync(path.replace(/model\.json$/, 'meta.json'), 'utf8'));
    expect(meta.inputShape).toEqual(zooModel('shapes').meta.inputShape);
    expect(meta.outputShape).toEqual([16, 16, zooModel('shapes').meta.numClasses]);
    expect(meta.trainingSeconds).toBeLessThan(3600);
  });

  it('predicts masks in [0, 1] for a batch in one forward', async () => {
    await initTfjsBackend('wasm');
    const masker = await loadTfjsModel(zooMaskerPath(), { name: 'shapes-masker' });
    const { images } = sampleImages('shapes', 2);
    const out = await masker.forward(images);
    expect(out.shape).toEqual([2, 16 * 16 * 6]);
    expect(out.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    await masker.dispose();
  });
});
