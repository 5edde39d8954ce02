/**
 * The discrete Hartley transform cas(2πkj/n)/√n of one axis: orthonormal, symmetric and its own
 * inverse. Power-of-two sizes run a radix-2 FFT (H = (Re F − Im F)/√n); other sizes multiply by
 * the matrix.
 */
export interface Hartley1d {
  readonly n: number;
  /** `out[k] = Σ_j x[j]·cas(2πkj/n)/√n`, reading `x` and writing `out` with the given strides. */
  apply(
    x: Float64Array,
    from: number,
    stride: number,
    out: Float64Array,
    to: number,
    outStride: number,
  ): void;
}

const cache = new Map<number, Hartley1d>();

/** The Hartley transform of size `n` (cached). */
export function hartley1d(n: number): Hartley1d {
  let found = cache.get(n);
  if (!found) {
    found = (n & (n - 1)) === 0 ? fftHartley(n) : matrixHartley(n);
    cache.set(n, found);
  }
  return found;
}

function matrixHartley(n: number): Hartley1d {
  const m = new Float64Array(n * n);
  for (let k = 0; k < n; k++)
    for (let j = 0; j < n; j++) {
      const t = (2 * Math.PI * k * j) / n;
      m[k * n + j] = (Math.cos(t) + Math.sin(t)) / Math.sqrt(n);
    }
  const buf = new Float64Array(n);
  return {
    n,
    apply(x, from, stride, out, to, outStride) {
      for (let j = 0; j < n; j++) buf[j] = x[from + j * stride];
      for (let k = 0; k < n; k++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += m[k * n + j] * buf[j];
        out[to + k * outStride] = s;
      }
    },
  };
}

function fftHartley(n: number): Hartley1d {
  const bits = Math.round(Math.log2(n));
  const reverse = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    reverse[i] = r;
  }
  const cos = Float64Array.from({ length: n / 2 }, (_, k) => Math.cos((2 * Math.PI * k) / n));
  const sin = Float64Array.from({ length: n / 2 }, (_, k) => Math.sin((2 * Math.PI * k) / n));
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  const norm = 1 / Math.sqrt(n);
  return {
    n,
    apply(x, from, stride, out, to, outStride) {
      for (let i = 0; i < n; i++) {
        re[reverse[i]] = x[from + i * stride];
        im[reverse[i]] = 0;
      }
      for (let size = 2; size <= n; size *= 2) {
        const half = size / 2;
        const step = n / size;
        for (let start = 0; start < n; start += size)
          for (let k = 0; k < half; k++) {
            // F uses e^{−2πi kj/n}: twiddle cos − i·sin.
            const wr = cos[k * step];
            const wi = -sin[k * step];
            const a = start + k;
            const b = a + half;
            const tr = re[b] * wr - im[b] * wi;
            const ti = re[b] * wi + im[b] * wr;
            re[b] = re[a] - tr;
            im[b] = im[a] - ti;
            re[a] += tr;
            im[a] += ti;
          }
      }
      for (let k = 0; k < n; k++) out[to + k * outStride] = (re[k] - im[k]) * norm;
    },
  };
}

/** `H_h · A · H_w` of an h×w plane (its own inverse and adjoint). */
export function hartley2d(a: Float64Array, h: number, w: number): Float64Array {
  const rows = hartley1d(w);
  const cols = hartley1d(h);
  const tmp = new Float64Array(h * w);
  for (let y = 0; y < h; y++) rows.apply(a, y * w, 1, tmp, y * w, 1);
  const out = new Float64Array(h * w);
  for (let x = 0; x < w; x++) cols.apply(tmp, x, w, out, x, w);
  return out;
}
