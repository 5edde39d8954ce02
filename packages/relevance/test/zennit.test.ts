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

  /** `lrp` with a composite (and optional rule overrides) on the fixture's targets, one map per item. */
  const ours = async (composite: string, rules: Record<string, string> | null = null) =>
    items(
      (
        await lrp.explain(model, x, meta.targets, {
          composite,
          low: meta.low,
          high: meta.high,
          rules,
        })
      ).map,
    );

  it.each(['epsilon-plus-flat', 'epsilon-gamma-box'])(
    '%s: per-item Pearson ≥ 0.99; ours = z_c · zennit to 5e-3',
    async (composite) => {
      const theirs = items(npy(`${composite}.npy`));
      (await ours(composite)).forEach((o, i) => {
        const logit = meta.logits[i][meta.targets[i]];
        const r = pearson(o, theirs[i]);
        const s = scale(o, theirs[i]);
        let worst = 0;
        let peak = 0;
        for (let j = 0; j < o.length; j++) {
          worst = Math.max(worst, Math.abs(o[j] / logit - theirs[i][j]));
          peak = Math.max(peak, Math.abs(theirs[i][j]));
        }
        // Measured: 1 − r < 1e-7 and worst / peak < 1e-3 on every item (README).
        expect(r, `item ${i}: Pearson`).toBeGreaterThanOrEqual(0.99);
        expect(s / logit, `item ${i}: least-squares scale ${s} against z_c = ${logit}`).toBeCloseTo(1, 2);
        expect(worst / peak, `item ${i}: max |ours/z_c − zennit| / max |zennit|`).toBeLessThan(5e-3);
      });
    },
  );

  it('gamma-classic in its place does not (the issue this fixture pins)', async () => {
    const theirs = items(npy('epsilon-gamma-box.npy'));
    const convs = model.layers!()
      .filter((l) => l.kind === 'conv')
      .slice(1)
      .map((l) => [l.name, 'gamma-classic:0.25']);
    const classic = await ours('epsilon-gamma-box', Object.fromEntries(convs));
    const r = classic.map((o, i) => pearson(o, theirs[i]));
    // Measured: r = −0.02, 0.18, 0.03, −0.10.
    expect(Math.min(...r), `Pearson per item ${r.join(', ')}`).toBeLessThan(0.9);
  });
});
