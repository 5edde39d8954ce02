import type { Geometry } from './pixels.js';

// Neighbour weights of the noisy linear imputer: 1/6 for the four direct neighbours, 1/12 for the
// four diagonal ones (Rong et al. 2022).
const offsets: readonly [number, number, number][] = [
  [-1, 0, 1 / 6],
  [1, 0, 1 / 6],
  [0, -1, 1 / 6],
  [0, 1, 1 / 6],
  [-1, -1, 1 / 12],
  [-1, 1, 1 / 12],
  [1, -1, 1 / 12],
  [1, 1, 1 / 12],
];

/**
 * Fill the `removed` pixels of one item (`out`, in the geometry's layout, already holding the
 * item) so that each equals the weighted mean of its neighbours, known or imputed: per channel,
 * the linear system (Σw)·v_p − Σ_{q removed} w·v_q = Σ_{q kept} w·x_q, which is symmetric positive
 * definite whenever a pixel is kept, solved by conjugate gradients in float64. Then `noise(k)`
 * (one value per removed pixel and channel, k in removal order × channels) is added.
 */
export function imputeLinear(out: Float32Array, removed: Int32Array, g: Geometry, noise: Float32Array): void {
  const m = removed.length;
  if (m === 0) return;
  const index = new Int32Array(g.hw).fill(-1);
  removed.forEach((p, k) => {
    index[p] = k;
  });
  // Neighbour lists of the removed pixels: in-image neighbours and their weights.
  const nbr: { q: number; w: number }[][] = Array.from({ length: m }, (_, k) => {
    const p = removed[k];
    const x = p % g.w;
    const y = (p - x) / g.w;
    return offsets
      .filter(([dy, dx]) => y + dy >= 0 && y + dy < g.h && x + dx >= 0 && x + dx < g.w)
      .map(([dy, dx, w]) => ({ q: (y + dy) * g.w + x + dx, w }));
  });
  const diag = Float64Array.from(nbr, (list) => list.reduce((s, e) => s + e.w, 0));
  const at = (p: number, k: number): number => (g.layout === 'NCHW' ? k * g.hw + p : p * g.c + k);
  const apply = (v: Float64Array, r: Float64Array): void => {
    for (let a = 0; a < m; a++) {
      let s = diag[a] * v[a];
      for (const { q, w } of nbr[a]) if (index[q] >= 0) s -= w * v[index[q]];
      r[a] = s;
    }
  };
  const v = new Float64Array(m);
  const r = new Float64Array(m);
  const d = new Float64Array(m);
  const ad = new Float64Array(m);
  for (let k = 0; k < g.c; k++) {
    for (let a = 0; a < m; a++) {
      let b = 0;
      for (const { q, w } of nbr[a]) if (index[q] < 0) b += w * out[at(q, k)];
      r[a] = b;
      v[a] = 0;
    }
    let rr = r.reduce((s, e) => s + e * e, 0);
    const tolerance = 1e-20 * Math.max(rr, 1e-30);
    d.set(r);
    for (let it = 0; it < 4 * m && rr > tolerance; it++) {
      apply(d, ad);
      let dad = 0;
      for (let a = 0; a < m; a++) dad += d[a] * ad[a];
      const alpha = rr / dad;
      let next = 0;
      for (let a = 0; a < m; a++) {
        v[a] += alpha * d[a];
        r[a] -= alpha * ad[a];
        next += r[a] * r[a];
      }
      for (let a = 0; a < m; a++) d[a] = r[a] + (next / rr) * d[a];
      rr = next;
    }
    for (let a = 0; a < m; a++) out[at(removed[a], k)] = v[a] + noise[a * g.c + k];
  }
}
