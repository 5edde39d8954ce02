// Cross-check against zennit 0.5.1 (the reference LRP implementation for PyTorch): a narrowed
// torchvision ResNet-18 with BatchNorm, explained by zennit with its ResNetCanonizer and by `lrp`
// on the ONNX export. `fixtures/zennit/generate.py` wrote the model, inputs and zennit's maps.
// zennit seeds relevance 1 at the target, xlens the target logit z_c (> 0 for every target here):
// the maps differ by that factor per item, so they are compared by per-item Pearson correlation,
// and the scale is checked to be z_c.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromOnnx } from '@xlens/backend-onnx';
import { type Model, parseNpy, type Tensor } from '@xlens/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lrp } from '../src/index.js';

const dir = join(import.meta.dirname, 'fixtures', 'zennit');
const npy = (name: string): Tensor => parseNpy(readFileSync(join(dir, name)), name);
const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as {
  targets: number[];
  logits: number[][];
  low: number[];
  high: number[];
};

/** Pearson correlation of two equally long vectors. */
function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] / n;
    mb += b[i] / n;
  }
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

/** Least-squares scale s minimising |a − s·b|. */
function scale(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    bb += b[i] * b[i];
  }
  return ab / bb;
}

const items = (t: Tensor): Float32Array[] => {
  const m = t.data.length / t.shape[0];
  return Array.from({ length: t.shape[0] }, (_, i) => t.data.subarray(i * m, (i + 1) * m));
};

describe('lrp on a ResNet-18 with BatchNorm agrees with zennit 0.5.1 (ResNetCanonizer)', () => {
  let model: Model;
  const x = npy('inputs.npy');
  beforeAll(async () => {
    model = await fromOnnx(join(dir, 'resnet18_bn.onnx'), { intraOpThreads: 1 });
  });
  afterAll(async () => {
    await model.dispose();
  });

  it('the ONNX export gives the logits torch gave', async () => {
    const out = await model.forward(x);
    const want = meta.logits.flat();
    out.data.forEach((v, i) => {
      expect(v).toBeCloseTo(want[i], 4);
    });
  });

  it.each(['epsilon-plus-flat', 'epsilon-gamma-box'])(
    '%s: per-item Pearson ≥ 0.99, scale = target logit',
    async (composite) => {
      const a = await lrp.explain(model, x, meta.targets, {
        composite,
        low: meta.low,
        high: meta.high,
      });
      const theirs = items(npy(`${composite}.npy`));
      const ours = items(a.map);
      ours.forEach((o, i) => {
        const r = pearson(o, theirs[i]);
        const s = scale(o, theirs[i]);
        const logit = meta.logits[i][meta.targets[i]];
        console.log(
          `${composite} item ${i}: Pearson ${r.toFixed(5)}, scale ${s.toFixed(4)} (logit ${logit})`,
        );
        expect(r, `item ${i}`).toBeGreaterThanOrEqual(0.99);
        expect(s / logit, `item ${i}: ours = z_c · zennit's`).toBeCloseTo(1, 2);
      });
    },
  );
});
