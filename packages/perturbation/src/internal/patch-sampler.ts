import type { Rng, Tensor } from '@xlens/core';
import type { Geometry } from './image.js';
import { cholesky, choleskySolve } from './linear.js';
import type { Rect } from './windows.js';

/** Most patches drawn from the data to fit the Gaussian. */
export const fitPatches = 2000;

/** Flat index of pixel (y, x), channel ch, within one item. */
export function elementIndex(g: Geometry, y: number, x: number, ch: number): number {
  return g.layout === 'NCHW' ? ch * g.h * g.w + y * g.w + x : (y * g.w + x) * g.c + ch;
}

/**
 * A Gaussian over `ph×pw` patches (all channels, in (y, x, channel) order), fitted to patches at
 * random positions of the data images — stationary, so one model serves every window.
 */
export interface PatchGaussian {
  readonly ph: number;
  readonly pw: number;
  readonly mean: Float64Array;
  readonly cov: Float64Array;
}

/** Fit `PatchGaussian` to up to `fitPatches` patches of `data` (images in the input's layout). */
export function fitPatchGaussian(data: Tensor, g: Geometry, ph: number, pw: number, rng: Rng): PatchGaussian {
  const images = data.shape[0];
  const dims = ph * pw * g.c;
  const mean = new Float64Array(dims);
  const cov = new Float64Array(dims * dims);
  const v = new Float64Array(dims);
  const count = Math.min(fitPatches, images * (g.h - ph + 1) * (g.w - pw + 1));
  for (let s = 0; s < count; s++) {
    const j = rng.int(images);
    const y0 = rng.int(g.h - ph + 1);
    const x0 = rng.int(g.w - pw + 1);
    for (let y = 0; y < ph; y++)
      for (let x = 0; x < pw; x++)
        for (let ch = 0; ch < g.c; ch++)
          v[(y * pw + x) * g.c + ch] = data.data[j * g.per + elementIndex(g, y0 + y, x0 + x, ch)];
    for (let a = 0; a < dims; a++) {
      mean[a] += v[a];
      for (let b = 0; b <= a; b++) cov[a * dims + b] += v[a] * v[b];
    }
  }
  for (let a = 0; a < dims; a++) mean[a] /= count;
  for (let a = 0; a < dims; a++)
    for (let b = 0; b <= a; b++) {
      const c = cov[a * dims + b] / count - mean[a] * mean[b];
      cov[a * dims + b] = c;
      cov[b * dims + a] = c;
    }
  return { ph, pw, mean, cov };
}

/** The Gaussian of a window's values given the frame around it. */
interface Conditional {
  /** Patch dimensions of the window (inner) and of the visible frame (outer). */
  readonly inner: Int32Array;
  readonly outer: Int32Array;
  /** Σ_IO·Σ_OO⁻¹, `|I|×|O|`. */
  readonly gain: Float64Array;
  /** Cholesky factor of Σ_II − Σ_IO·Σ_OO⁻¹·Σ_OI. */
  readonly chol: Float64Array;
}

function conditional(gauss: PatchGaussian, inner: Int32Array, outer: Int32Array): Conditional {
  const dims = gauss.mean.length;
  const ni = inner.length;
  const no = outer.length;
  const sub = (rows: Int32Array, cols: Int32Array) => {
    const out = new Float64Array(rows.length * cols.length);
    rows.forEach((r, a) => {
      cols.forEach((c, b) => {
        out[a * cols.length + b] = gauss.cov[r * dims + c];
      });
    });
    return out;
  };
  const lo = cholesky(sub(outer, outer), no);
  const io = sub(inner, outer);
  const gain = new Float64Array(ni * no);
  for (let a = 0; a < ni; a++) gain.set(choleskySolve(lo, io.subarray(a * no, (a + 1) * no), no), a * no);
  const cc = sub(inner, inner);
  for (let a = 0; a < ni; a++)
    for (let b = 0; b < ni; b++) {
      let s = 0;
      for (let k = 0; k < no; k++) s += gain[a * no + k] * io[b * no + k];
      cc[a * ni + b] -= s;
    }
  return { inner, outer, gain, chol: cholesky(cc, ni) };
}

/**
 * Conditional sampler (Zintgraf et al.'s): the window's values are drawn from the patch Gaussian
 * conditioned on the `padding`-pixel frame around the window (as much of it as lies inside the
 * image). Conditionals are computed once per window shape and border clipping.
 */
export function conditionalSampler(gauss: PatchGaussian, g: Geometry, padding: number) {
  const cache = new Map<string, Conditional>();
  /** Write a draw for `win` into `row` (a copy of item `x`), from standard normals `z` (≥ |I| of them). */
  return (win: Rect, x: Float32Array, row: Float32Array, z: Float64Array): void => {
    const oy = win.top - padding;
    const ox = win.left - padding;
    const key = [
      Math.min(0, oy),
      Math.min(0, ox),
      Math.max(0, oy + gauss.ph - g.h),
      Math.max(0, ox + gauss.pw - g.w),
    ]
      .concat([win.bottom - win.top, win.right - win.left])
      .join(',');
    const pixels: [number, number, boolean][] = [];
    for (let py = 0; py < gauss.ph; py++)
      for (let px = 0; px < gauss.pw; px++) {
        const y = oy + py;
        const xx = ox + px;
        if (y < 0 || xx < 0 || y >= g.h || xx >= g.w) continue;
        pixels.push([py, px, y >= win.top && y < win.bottom && xx >= win.left && xx < win.right]);
      }
    let c = cache.get(key);
    if (!c) {
      const dims = (inside: boolean) =>
        Int32Array.from(
          pixels
            .filter((p) => p[2] === inside)
            .flatMap(([py, px]) => Array.from({ length: g.c }, (_, ch) => (py * gauss.pw + px) * g.c + ch)),
        );
      c = conditional(gauss, dims(true), dims(false));
      cache.set(key, c);
    }
    const at = (d: number) => {
      const p = Math.floor(d / g.c);
      return elementIndex(g, oy + Math.floor(p / gauss.pw), ox + (p % gauss.pw), d % g.c);
    };
    const ni = c.inner.length;
    const no = c.outer.length;
    const dev = new Float64Array(no);
    for (let b = 0; b < no; b++) dev[b] = x[at(c.outer[b])] - gauss.mean[c.outer[b]];
    for (let a = 0; a < ni; a++) {
      let v = gauss.mean[c.inner[a]];
      for (let b = 0; b < no; b++) v += c.gain[a * no + b] * dev[b];
      for (let b = 0; b <= a; b++) v += c.chol[a * ni + b] * z[b];
      row[at(c.inner[a])] = v;
    }
  };
}
