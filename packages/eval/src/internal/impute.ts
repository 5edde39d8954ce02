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
 * item) so that each equals the weighted mean of its neighbours, kept or imputed: per channel,
 * the linear system (Σw)·v_p − Σ_{q removed} w·v_q = Σ_{q kept} w·x_q, which is symmetric positive
 * definite whenever a pixel is kept, solved by conjugate gradients in float64 to a residual of
 * 1e-6 of the right-hand side. Then `noise` (one value per removed pixel and channel, removal order
 * × channels) is added.
 */
export function imputeLinear(out: Float32Array, removed: Int32Array, g: Geometry, noise: Float32Array): void {
  const m = removed.length;
  if (m === 0) return;
  const index = new Int32Array(g.hw).fill(-1);
  for (let a = 0; a < m; a++) index[removed[a]] = a;
  // Neighbours of every removed pixel in flat arrays: removed ones by unknown index (for A·v),
  // kept ones by pixel (for the right-hand side).
  const start = new Int32Array(m + 1);
  const nbr = new Int32Array(8 * m);
  const weight = new Float64Array(8 * m);
  const diag = new Float64Array(m);
  let e = 0;
  for (let a = 0; a < m; a++) {
    const p = removed[a];
    const x = p % g.w;
    const y = (p - x) / g.w;
    for (const [dy, dx, w] of offsets) {
      if (y + dy < 0 || y + dy >= g.h || x + dx < 0 || x + dx >= g.w) continue;
      const q = (y + dy) * g.w + x + dx;
      diag[a] += w;
      // Removed neighbours are stored as −(index + 1), kept ones as their pixel.
      nbr[e] = index[q] >= 0 ? -(index[q] + 1) : q;
      weight[e++] = w;
    }
    start[a + 1] = e;
  }
  const at = (p: number, k: number): number => (g.layout === 'NCHW' ? k * g.hw + p : p * g.c + k);
  const apply = (v: Float64Array, r: Float64Array): void => {
    for (let a = 0; a < m; a++) {
      let s = diag[a] * v[a];
      for (let j = start[a]; j < start[a + 1]; j++) if (nbr[j] < 0) s -= weight[j] * v[-nbr[j] - 1];
      r[a] = s;
    }
  };
  const v = new Float64Array(m);
  const r = new Float64Array(m);
  const d = new Float64Array(m);
  const ad = new Float64Array(m);
  for (let k = 0; k < g.c; k++) {
    // Start from the mean of the kept pixels, closer to the answer than 0.
    let kept = 0;
    let mean = 0;
    for (let p = 0; p < g.hw; p++)
      if (index[p] < 0) {
        mean += out[at(p, k)];
        kept++;
      }
    v.fill(kept > 0 ? mean / kept : 0);
    apply(v, ad);
    let bb = 0;
    let rr = 0;
    for (let a = 0; a < m; a++) {
      let b = 0;
      for (let j = start[a]; j < start[a + 1]; j++) if (nbr[j] >= 0) b += weight[j] * out[at(nbr[j], k)];
      r[a] = b - ad[a];
      bb += b * b;
      rr += r[a] * r[a];
    }
    const tolerance = 1e-12 * Math.max(bb, 1e-30);
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
      const beta = next / rr;
      for (let a = 0; a < m; a++) d[a] = r[a] + beta * d[a];
      rr = next;
    }
    for (let a = 0; a < m; a++) out[at(removed[a], k)] = v[a] + noise[a * g.c + k];
  }
}
