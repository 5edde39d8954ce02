// xlens's occlusion equals Captum's `Occlusion` on the same model: the fixture holds a small CNN
// exported from PyTorch to ONNX and Captum 0.8's attributions on a seeded batch (written by
// scripts/captum_occlusion.py; no Python runs here). Captum scored with PyTorch and xlens scores
// with ONNX Runtime, so the maps agree to float32 precision, not bit for bit.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fromOnnx } from '@xlens/backend-onnx';
import type { Model, Tensor } from '@xlens/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { occlusion } from '../src/occlusion.js';

interface Fixture {
  readonly shape: number[];
  readonly input: number[];
  readonly targets: number[];
  readonly logits: number[];
  readonly cases: {
    window: [number, number];
    stride: [number, number];
    fill: number;
    attribution: number[];
  }[];
}

const at = (name: string) => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));
const fixture: Fixture = JSON.parse(readFileSync(at('captum-occlusion.json'), 'utf8'));
const largestLogit = Math.max(...fixture.logits.map(Math.abs));

describe('occlusion equals Captum’s Occlusion', () => {
  let model: Model;
  const x: Tensor = { data: Float32Array.from(fixture.input), shape: fixture.shape };

  beforeAll(async () => {
    model = await fromOnnx(at('captum-occlusion.onnx'), { intraOpThreads: 1 });
  });
  afterAll(async () => {
    await model.dispose();
  });

  it('runs the same network (logits agree)', async () => {
    const out = await model.forward(x);
    for (let e = 0; e < fixture.logits.length; e++) expect(out.data[e]).toBeCloseTo(fixture.logits[e], 5);
  });

  it.each(fixture.cases.map((c) => [`window ${c.window} stride ${c.stride} fill ${c.fill}`, c] as const))(
    '%s',
    async (_, c) => {
      const a = await occlusion.explain(model, x, fixture.targets, {
        window: c.window,
        stride: c.stride,
        fill: c.fill,
        batchSize: 16,
      });
      expect(a.map.data.length).toBe(c.attribution.length);
      let worst = 0;
      for (let e = 0; e < c.attribution.length; e++)
        worst = Math.max(worst, Math.abs(a.map.data[e] - c.attribution[e]));
      // float32 precision: a drop is a difference of two logits, each rounded to float32 by both
      // runtimes, so the maps may differ by a few ulps of the largest logit (2.6 here: 2.4e-7 per
      // ulp); measured 4.8e-7 (2 ulps), against drops up to 0.15.
      expect(worst).toBeLessThanOrEqual(4 * 2 ** -23 * largestLogit);
    },
  );
});
