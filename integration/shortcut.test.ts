// Issue 3's check that an explanation exposes a model that cheats: the shapes-shortcut model was
// trained where a corner mark always came with 'star'. For marked, clearly drawn stars, most of the
// Integrated Gradients decomposition of the star logit must sit on the mark for that model, and not
// for the clean shapes model, which has a real star to look at.
import { initTfjsBackend, loadTfjsModel } from '@xlens/backend-tfjs';
import { type Model, Registry, type Tensor } from '@xlens/core';
import { gradientMethods } from '@xlens/gradients';
import { MARK_BOX, SHORTCUT_DEFAULTS, shortcutDataset, zooModelPath } from '@xlens/zoo';
import { beforeAll, describe, expect, it } from 'vitest';

const star = SHORTCUT_DEFAULTS.classIndex;
const ig = new Registry(gradientMethods).get('integrated-gradients');

/** Marked star images, drawn at full opacity (seed distinct from training and test sets). */
function markedStars(count: number): Tensor {
  const set = shortcutDataset({ count: 12 * count, seed: 90_210, faintProbability: 0 });
  const item = 64 * 64 * 3;
  const picked = [...set.labels.keys()]
    .filter((i) => set.labels[i] === star && set.marked![i])
    .slice(0, count);
  const data = new Float32Array(picked.length * item);
  picked.forEach((src, i) => {
    data.set(set.images.data.subarray(src * item, (src + 1) * item), i * item);
  });
  return { data, shape: [picked.length, 64, 64, 3] };
}

/**
 * Per item: the share of Σ IG (= f(x) − f(baseline) by completeness) that lies in the mark box, and
 * the share of Σ |IG| there.
 */
async function markShares(model: Model, images: Tensor): Promise<{ signed: number[]; absolute: number[] }> {
  const r = await ig.explain(model, images, star, { steps: 32, baseline: 'zero', batchSize: 32 });
  const [x0, y0, x1, y1] = MARK_BOX;
  const signed: number[] = [];
  const absolute: number[] = [];
  for (let b = 0; b < images.shape[0]; b++) {
    let inside = 0;
    let total = 0;
    let insideAbs = 0;
    let totalAbs = 0;
    for (let y = 0; y < 64; y++)
      for (let x = 0; x < 64; x++)
        for (let c = 0; c < 3; c++) {
          const v = r.map.data[((b * 64 + y) * 64 + x) * 3 + c];
          const onMark = x >= x0 && x < x1 && y >= y0 && y < y1;
          total += v;
          totalAbs += Math.abs(v);
          if (onMark) {
            inside += v;
            insideAbs += Math.abs(v);
          }
        }
    signed.push(inside / total);
    absolute.push(insideAbs / totalAbs);
  }
  return { signed, absolute };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1];

describe('Integrated Gradients exposes the shortcut', () => {
  let images: Tensor;
  beforeAll(async () => {
    await initTfjsBackend('wasm');
    images = markedStars(12);
  });

  it('puts most of the star evidence on the mark for the shortcut model, not for the clean one', async () => {
    expect(images.shape[0]).toBeGreaterThanOrEqual(8);
    const shortcut = await loadTfjsModel(zooModelPath('shapes-shortcut', 'tfjs'));
    const clean = await loadTfjsModel(zooModelPath('shapes', 'tfjs'));
    const cheat = await markShares(shortcut, images);
    const honest = await markShares(clean, images);
    await shortcut.dispose();
    await clean.dispose();
    // The mark covers 36 of 4,096 pixels (0.9 %).
    expect(median(cheat.signed)).toBeGreaterThan(0.5);
    expect(median(honest.signed)).toBeLessThan(0.5);
    expect(median(cheat.absolute)).toBeGreaterThan(1.5 * median(honest.absolute));
  });
});
