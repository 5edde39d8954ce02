import { type Tensor, tensor } from '@xlens/core';
import { assertClose, randomInput, referenceModel, type ToySpec, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { eigenCam, firstComponentMaps } from './eigen-cam.js';

/** `input [1, 3, 3]` → 1×1 conv 1→3 with weights `v`, no bias, no activation → GAP → dense 3→2. */
function rankOneNet(v: number[]): ToySpec {
  return {
    name: 'rank-one',
    inputShape: [1, 3, 3],
    numClasses: 2,
    layers: [
      { type: 'conv', name: 'feat', inChannels: 1, outChannels: 3, kernel: 1, weight: v },
      { type: 'global-avg-pool', name: 'gap' },
      { type: 'dense', name: 'fc', inFeatures: 3, outFeatures: 2, weight: [1, 0, 0, 0, 1, 0] },
    ],
  };
}

describe('eigen-cam', () => {
  it('recovers |v|·u from rank-one activations A^k = v_k·u, with the sign convention sum ≥ 0', async () => {
    const u = [0.1, 0.5, 0.2, 0.9, 0.3, 0.4, 0.8, 0.6, 0.7];
    const x = tensor(u, [1, 1, 3, 3]);
    for (const v of [
      [1, 2, 2],
      [-1, -2, -2],
    ]) {
      const model = referenceModel(rankOneNet(v));
      const a = await eigenCam.explain(model, x, 0, { upsample: false });
      assertClose(
        `v = ${v}`,
        a.map,
        tensor(
          u.map((ui) => 3 * ui),
          [1, 3, 3],
        ),
        1e-5,
      );
    }
  });

  it('is a top singular pair of the positions × channels matrix on a real net', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomInput(model, 1, 61);
    const { activations } = await model.capture!(x, ['conv1']);
    const a: Tensor = activations.conv1; // 1×4×8×8: more positions than channels
    const m = firstComponentMaps(a).data;
    const c = 4;
    const hw = 64;
    // v = Xᵀm / ‖Xᵀm‖ must map back onto m (m = Xv), and ‖m‖ ≥ ‖Xw‖ for any unit w.
    const xtm = Array.from({ length: c }, (_, k) => m.reduce((s, mp, p) => s + a.data[k * hw + p] * mp, 0));
    const norm = Math.hypot(...xtm);
    const back = Array.from({ length: hw }, (_, p) =>
      xtm.reduce((s, vk, k) => s + (vk / norm) * a.data[k * hw + p], 0),
    );
    assertClose('m = X v', tensor(back, [hw]), tensor(Array.from(m), [hw]), 1e-4);
    const normM = Math.hypot(...m);
    for (const w of [
      [1, 0, 0, 0],
      [0.5, 0.5, 0.5, 0.5],
      [0, -0.6, 0.8, 0],
    ]) {
      const xw = Array.from({ length: hw }, (_, p) => w.reduce((s, wk, k) => s + wk * a.data[k * hw + p], 0));
      expect(Math.hypot(...xw)).toBeLessThanOrEqual(normM * (1 + 1e-6));
    }
    expect(m.reduce((s, v) => s + v, 0)).toBeGreaterThanOrEqual(0);
  });

  it('finds the top component despite a tiny eigengap, from either Gram matrix', () => {
    // A⁰ = [1, 1, 0, 0] and A¹ = 0.999·[0, 0, 1, 1]: singular values √2 and 0.999·√2.
    for (const channels of [3, 6]) {
      const data = new Float32Array(channels * 4);
      data.set([1, 1, 0, 0], 0);
      data.set([0, 0, 0.999, 0.999], 4);
      const m = firstComponentMaps({ data, shape: [1, channels, 2, 2] });
      assertClose(`${channels} channels`, m, tensor([1, 1, 0, 0], [1, 2, 2]), 1e-5);
    }
  });

  it('ignores the target class', async () => {
    const model = referenceModel(tinyCnn());
    const x = randomInput(model, 1, 62);
    const a = await eigenCam.explain(model, x, 0);
    const b = await eigenCam.explain(model, x, 3);
    assertClose('class-agnostic', a.map, b.map, 0);
  });
});
