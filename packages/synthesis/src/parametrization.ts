import type { Rng } from '@xlens/core';
import { hartley2d } from './hartley.js';
import type { Geometry, ValueRange } from './image-space.js';

/**
 * How the optimised numbers θ of one item become its image (channels-first). The optimiser
 * ascends on θ; `backward` turns the gradient at the image into the gradient at θ.
 */
export interface Parametrization {
  /** θ from an image (the start of `init: 'input'`). */
  fromImage(image: Float32Array): Float32Array;
  /** θ of the start of `init: 'noise'` (`rng` is shared by every item) or `'centre'` (no rng). */
  start(rng: Rng | null, amount: number): Float32Array;
  render(theta: Float32Array): Float32Array;
  /** ∂/∂θ from the gradient at the image; `image` is `render(theta)`. */
  backward(theta: Float32Array, gradient: Float32Array, image: Float32Array): Float32Array;
}

/** The image itself (Erhan et al., 2009; Simonyan et al., 2014): θ = x. */
export function pixelParametrization(g: Geometry, range: ValueRange): Parametrization {
  const plane = g.h * g.w;
  return {
    fromImage: (image) => image.slice(),
    start(rng, amount) {
      const x = new Float32Array(g.size);
      for (let k = 0; k < g.c; k++) {
        const span = range.bounded ? range.hi[k] - range.lo[k] : 1;
        for (let p = k * plane; p < (k + 1) * plane; p++)
          x[p] = range.centre[k] + (rng ? (rng.uniform() * 2 - 1) * amount * span : 0);
      }
      return x;
    },
    render: (theta) => theta,
    backward: (_theta, gradient) => gradient,
  };
}

/**
 * The square root of the colour correlation of ImageNet (an SVD square root, columns scaled to a
 * largest norm of 1), as in Lucid's `color_correlation_svd_sqrt`: decorrelated θ channels mix into
 * RGB through it.
 */
const colourSqrt = (() => {
  const m = [0.26, 0.09, 0.02, 0.27, 0.0, -0.05, 0.27, -0.09, 0.03];
  let max = 0;
  for (let j = 0; j < 3; j++) max = Math.max(max, Math.hypot(m[j], m[3 + j], m[6 + j]));
  return m.map((v) => v / max);
})();

function invert3(m: readonly number[]): number[] {
  const [a, b, c, d, e, f, g, h, i] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [
    e * i - f * h,
    c * h - b * i,
    b * f - c * e,
    f * g - d * i,
    a * i - c * g,
    c * d - a * f,
    d * h - e * g,
    b * g - a * h,
    a * e - b * d,
  ].map((v) => v / det);
}

const sigmoid = (t: number): number => 1 / (1 + Math.exp(-t));

/**
 * Olah, Mordvintsev & Schubert, 2017, "Feature Visualization", Distill,
 * doi:10.23915/distill.00007. The decorrelated parametrisation of Lucid: θ is a spectrum whose
 * coefficients are scaled by 1/max(|f|, 1/max(h, w))^`decayPower` (so all frequencies learn at a
 * similar pace, which whitens the gradient), taken back to pixels, divided by 4 as in Lucid, mixed
 * into RGB by the colour correlation's square root (3-channel models; `colour` false skips it), and
 * squashed into the value range by a sigmoid. The spectrum is over the real Hartley basis
 * cas(u·y)·cas(v·x), which spans the same frequencies as Lucid's `rfft2d` with the same magnitude
 * |f| per coefficient and is its own inverse, so the adjoint is the transform itself.
 */
export function fourierParametrization(
  g: Geometry,
  range: ValueRange,
  decayPower: number,
  colour: boolean,
): Parametrization {
  const { c, h, w } = g;
  const plane = h * w;
  const scale = new Float64Array(plane);
  for (let u = 0; u < h; u++)
    for (let v = 0; v < w; v++) {
      const fu = Math.min(u, h - u) / h;
      const fv = Math.min(v, w - v) / w;
      scale[u * w + v] = 1 / Math.max(Math.hypot(fu, fv), 1 / Math.max(h, w)) ** decayPower;
    }
  const mix = colour && c === 3 ? colourSqrt : null;
  const unmix = mix ? invert3(mix) : null;
  const span = Float64Array.from(range.lo, (l, k) => range.hi[k] - l);
  /** Pre-sigmoid values t (channels-first) of θ. */
  const logits = (theta: Float32Array): Float64Array => {
    const t = new Float64Array(g.size);
    const s = new Float64Array(plane);
    for (let k = 0; k < c; k++) {
      for (let p = 0; p < plane; p++) s[p] = (theta[k * plane + p] * scale[p]) / 4;
      t.set(hartley2d(s, h, w), k * plane);
    }
    if (!mix) return t;
    const out = new Float64Array(g.size);
    for (let p = 0; p < plane; p++) {
      const a = t[p];
      const b = t[plane + p];
      const d = t[2 * plane + p];
      for (let i = 0; i < 3; i++)
        out[i * plane + p] = mix[i * 3] * a + mix[i * 3 + 1] * b + mix[i * 3 + 2] * d;
    }
    return out;
  };
  return {
    fromImage(image) {
      // Invert each stage; values at the range ends are pulled in so the logit stays finite.
      const t = new Float64Array(g.size);
      for (let k = 0; k < c; k++)
        for (let p = k * plane; p < (k + 1) * plane; p++) {
          const q = Math.min(1 - 1e-3, Math.max(1e-3, (image[p] - range.lo[k]) / span[k]));
          t[p] = Math.log(q / (1 - q));
        }
      const d = unmix ? new Float64Array(g.size) : t;
      if (unmix)
        for (let p = 0; p < plane; p++)
          for (let i = 0; i < 3; i++)
            d[i * plane + p] =
              unmix[i * 3] * t[p] + unmix[i * 3 + 1] * t[plane + p] + unmix[i * 3 + 2] * t[2 * plane + p];
      const theta = new Float32Array(g.size);
      for (let k = 0; k < c; k++) {
        const s = hartley2d(d.subarray(k * plane, (k + 1) * plane), h, w);
        for (let p = 0; p < plane; p++) theta[k * plane + p] = (4 * s[p]) / scale[p];
      }
      return theta;
    },
    start: (rng, amount) => {
      const theta = new Float32Array(g.size);
      if (rng) rng.fillNormal(theta, 0, amount);
      return theta;
    },
    render(theta) {
      const t = logits(theta);
      const x = new Float32Array(g.size);
      for (let k = 0; k < c; k++)
        for (let p = k * plane; p < (k + 1) * plane; p++) x[p] = range.lo[k] + span[k] * sigmoid(t[p]);
      return x;
    },
    backward(_theta, gradient, image) {
      // σ′ = σ(1 − σ), with σ read back from the rendered image.
      const gt = new Float64Array(g.size);
      for (let k = 0; k < c; k++)
        for (let p = k * plane; p < (k + 1) * plane; p++) {
          const q = (image[p] - range.lo[k]) / span[k];
          gt[p] = gradient[p] * span[k] * q * (1 - q);
        }
      const gd = mix ? new Float64Array(g.size) : gt;
      if (mix)
        for (let p = 0; p < plane; p++) {
          const a = gt[p];
          const b = gt[plane + p];
          const d = gt[2 * plane + p];
          for (let j = 0; j < 3; j++) gd[j * plane + p] = mix[j] * a + mix[3 + j] * b + mix[6 + j] * d;
        }
      const out = new Float32Array(g.size);
      for (let k = 0; k < c; k++) {
        const s = hartley2d(gd.subarray(k * plane, (k + 1) * plane), h, w);
        for (let p = 0; p < plane; p++) out[k * plane + p] = (s[p] * scale[p]) / 4;
      }
      return out;
    },
  };
}
