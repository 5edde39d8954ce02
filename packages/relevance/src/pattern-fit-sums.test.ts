import type { LayerInfo, Tensor } from '@xlens/core';
import { randomTensor } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import type { ConvGeometry } from './conv-geometry.js';
import { accumulate, Moments, type Plan } from './pattern-fit.js';

/**
 * The per-sample accumulation fitting used before the sums became matrix products: every output
 * position's patch is cut out and added to every unit's running sums, one sample at a time.
 */
function perSamplePatterns(
  kind: 'conv' | 'dense',
  g: ConvGeometry | null,
  units: number,
  patch: number,
  positive: boolean,
  x: Tensor,
  y: Tensor,
): Float32Array {
  const count = new Float64Array(units);
  const sy = new Float64Array(units);
  const syy = new Float64Array(units);
  const sx = new Float64Array(units * patch);
  const sxy = new Float64Array(units * patch);
  const add = (u: number, v: number, p: ArrayLike<number>) => {
    if (positive && !(v > 0)) return;
    count[u]++;
    sy[u] += v;
    syy[u] += v * v;
    for (let i = 0; i < patch; i++) {
      sx[u * patch + i] += p[i];
      sxy[u * patch + i] += p[i] * v;
    }
  };
  const n = x.shape[0];
  if (kind === 'dense') {
    for (let b = 0; b < n; b++)
      for (let u = 0; u < units; u++)
        add(u, y.data[b * units + u], x.data.subarray(b * patch, (b + 1) * patch));
  } else if (g) {
    const perGroup = g.inC / g.groups;
    const outPerGroup = g.outC / g.groups;
    const p = new Float64Array(patch);
    for (let b = 0; b < n; b++)
      for (let grp = 0; grp < g.groups; grp++)
        for (let oy = 0; oy < g.outH; oy++)
          for (let ox = 0; ox < g.outW; ox++) {
            let k = 0;
            for (let c = 0; c < perGroup; c++)
              for (let ky = 0; ky < g.kH; ky++)
                for (let kx = 0; kx < g.kW; kx++) {
                  const iy = oy * g.strideH - g.padTop + ky * g.dilationH;
                  const ix = ox * g.strideW - g.padLeft + kx * g.dilationW;
                  p[k++] =
                    iy >= 0 && iy < g.inH && ix >= 0 && ix < g.inW
                      ? x.data[((b * g.inC + grp * perGroup + c) * g.inH + iy) * g.inW + ix]
                      : 0;
                }
            for (let o = grp * outPerGroup; o < (grp + 1) * outPerGroup; o++)
              add(o, y.data[((b * g.outC + o) * g.outH + oy) * g.outW + ox], p);
          }
  }
  const out = new Float32Array(units * patch);
  for (let u = 0; u < units; u++) {
    const m = count[u];
    if (m < 2) continue;
    const ey = sy[u] / m;
    const variance = syy[u] / m - ey * ey;
    if (!(variance > 1e-12 * Math.max(1, ey * ey))) continue;
    for (let i = 0; i < patch; i++)
      out[u * patch + i] = (sxy[u * patch + i] / m - (sx[u * patch + i] / m) * ey) / variance;
  }
  return out;
}

/** Max |a − b| over max |b|. */
function relativeError(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / s;
}

function plan(
  kind: 'conv' | 'dense',
  units: number,
  patch: number,
  positive: boolean,
  g?: ConvGeometry,
): Plan {
  const layer = { name: 'l', kind, inputs: [], outputShape: [] } as unknown as LayerInfo;
  return {
    layer,
    source: { layer: null, shape: [] },
    weightShape: [units],
    moments: new Moments(units, patch, positive),
    geometry: g,
  };
}

// Outputs with a positive bias, so the positive regime keeps about half the samples.
const shifted = (t: Tensor): Tensor => ({ data: t.data.map((v) => v + 0.2), shape: t.shape });

describe('pattern sums as matrix products', () => {
  const convs: Array<[string, Partial<ConvGeometry>]> = [
    [
      '3×3 same, 6 → 7 channels (units not a multiple of 4)',
      { inC: 6, outC: 7, kH: 3, kW: 3, padTop: 1, padLeft: 1 },
    ],
    [
      'strided, dilated, asymmetric 3×2 kernel',
      { inC: 5, outC: 9, kH: 3, kW: 2, strideH: 2, strideW: 1, dilationH: 2, padTop: 2 },
    ],
    [
      'grouped (depthwise, multiplier 2)',
      { inC: 4, outC: 8, kH: 3, kW: 3, padTop: 1, padLeft: 1, groups: 4 },
    ],
  ];
  for (const [name, partial] of convs) {
    for (const positive of [true, false]) {
      it(`conv ${name}, ${positive ? 'positive' : 'linear'}: equal to the per-sample sums`, () => {
        const base = {
          inH: 9,
          inW: 8,
          strideH: 1,
          strideW: 1,
          padTop: 0,
          padLeft: 0,
          dilationH: 1,
          dilationW: 1,
          groups: 1,
        };
        const g0 = { ...base, ...partial } as ConvGeometry;
        const outH = Math.floor((g0.inH + 2 * g0.padTop - (g0.kH - 1) * g0.dilationH - 1) / g0.strideH) + 1;
        const outW = Math.floor((g0.inW + 2 * g0.padLeft - (g0.kW - 1) * g0.dilationW - 1) / g0.strideW) + 1;
        const g: ConvGeometry = { ...g0, outH, outW };
        const patch = (g.inC / g.groups) * g.kH * g.kW;
        const n = 3;
        const x = randomTensor([n, g.inC, g.inH, g.inW], 11);
        const y = shifted(randomTensor([n, g.outC, outH, outW], 12));
        const p = plan('conv', g.outC, patch, positive, g);
        // Two chunks, as a stream delivers them.
        const half = (t: Tensor, from: number, to: number): Tensor => {
          const item = t.data.length / t.shape[0];
          return { data: t.data.slice(from * item, to * item), shape: [to - from, ...t.shape.slice(1)] };
        };
        accumulate(p, half(x, 0, 2), half(y, 0, 2));
        accumulate(p, half(x, 2, 3), half(y, 2, 3));
        const want = perSamplePatterns('conv', g, g.outC, patch, positive, x, y);
        expect(want.some((v) => v !== 0)).toBe(true);
        expect(relativeError(p.moments.pattern(), want)).toBeLessThan(1e-5);
      });
    }
  }

  it('dense, both estimators: equal to the per-sample sums', () => {
    for (const positive of [true, false]) {
      const x = randomTensor([9, 13], 21);
      const y = shifted(randomTensor([9, 6], 22));
      const p = plan('dense', 6, 13, positive);
      accumulate(p, x, y);
      const want = perSamplePatterns('dense', null, 6, 13, positive, x, y);
      expect(relativeError(p.moments.pattern(), want)).toBeLessThan(1e-5);
    }
  });
});
