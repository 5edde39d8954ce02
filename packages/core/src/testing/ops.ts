/**
 * Float64 kernels of the reference model: plain loops over channels-first batches, written for
 * clarity. Every kernel takes the batch size `n` and per-item geometry and allocates its result.
 * @internal
 */

/** Geometry of a 2-D convolution over one channels-first item. */
export interface ConvGeometry {
  readonly inC: number;
  readonly inH: number;
  readonly inW: number;
  readonly outC: number;
  readonly outH: number;
  readonly outW: number;
  readonly k: number;
  readonly stride: number;
  readonly pad: number;
}

/**
 * The loop nest shared by a convolution and its transpose: every (output position, input
 * position, weight) triple once, accumulated into `out`: `out[o] += w·source[i]`, or with `transpose` `out[i] += w·source[o]`.
 */
function convAccumulate(
  source: Float64Array,
  out: Float64Array,
  n: number,
  g: ConvGeometry,
  weight: Float64Array,
  transpose: boolean,
): Float64Array {
  const { inC, inH, inW, outC, outH, outW, k, stride, pad } = g;
  const inSize = inC * inH * inW;
  const outPlane = outH * outW;
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < outC; o++) {
      const outBase = (b * outC + o) * outPlane;
      for (let i = 0; i < inC; i++) {
        const inBase = b * inSize + i * inH * inW;
        for (let ky = 0; ky < k; ky++) {
          for (let kx = 0; kx < k; kx++) {
            const w = weight[((o * inC + i) * k + ky) * k + kx];
            if (w === 0) continue;
            for (let y = 0; y < outH; y++) {
              const iy = y * stride + ky - pad;
              if (iy < 0 || iy >= inH) continue;
              for (let xx = 0; xx < outW; xx++) {
                const ix = xx * stride + kx - pad;
                if (ix < 0 || ix >= inW) continue;
                const outAt = outBase + y * outW + xx;
                const inAt = inBase + iy * inW + ix;
                if (transpose) out[inAt] += w * source[outAt];
                else out[outAt] += w * source[inAt];
              }
            }
          }
        }
      }
    }
  }
  return out;
}

/** Convolution `out = W * x + b`; `weight` is `O×I×k×k`, `bias` per output channel or null. */
export function conv2d(
  x: Float64Array,
  n: number,
  g: ConvGeometry,
  weight: Float64Array,
  bias: Float64Array | null,
): Float64Array {
  const outPlane = g.outH * g.outW;
  const out = new Float64Array(n * g.outC * outPlane);
  if (bias) {
    for (let b = 0; b < n; b++)
      for (let o = 0; o < g.outC; o++) {
        const dst = (b * g.outC + o) * outPlane;
        out.fill(bias[o], dst, dst + outPlane);
      }
  }
  return convAccumulate(x, out, n, g, weight, false);
}

/** Transpose of `conv2d` in its input: `Wᵀ g`, the input-gradient of the convolution. */
export function conv2dTranspose(
  gOut: Float64Array,
  n: number,
  g: ConvGeometry,
  weight: Float64Array,
): Float64Array {
  return convAccumulate(gOut, new Float64Array(n * g.inC * g.inH * g.inW), n, g, weight, true);
}

/** Dense layer `out = W x + b`; `weight` is `out×in`. */
export function dense(
  x: Float64Array,
  n: number,
  inF: number,
  outF: number,
  weight: Float64Array,
  bias: Float64Array | null,
): Float64Array {
  const out = new Float64Array(n * outF);
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < outF; o++) {
      let s = bias ? bias[o] : 0;
      for (let i = 0; i < inF; i++) s += weight[o * inF + i] * x[b * inF + i];
      out[b * outF + o] = s;
    }
  }
  return out;
}

/** Transpose of `dense` in its input: `Wᵀ g`. */
export function denseTranspose(
  gOut: Float64Array,
  n: number,
  inF: number,
  outF: number,
  weight: Float64Array,
): Float64Array {
  const out = new Float64Array(n * inF);
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < outF; o++) {
      const go = gOut[b * outF + o];
      if (go === 0) continue;
      for (let i = 0; i < inF; i++) out[b * inF + i] += weight[o * inF + i] * go;
    }
  }
  return out;
}

/** Shape of a non-overlapping `size×size` pooling (stride = size, no padding, floor). */
export function poolShape(c: number, h: number, w: number, size: number): [number, number, number] {
  return [c, Math.floor(h / size), Math.floor(w / size)];
}

/**
 * Max-pooling forward. Returns the pooled values and, per output, the flat index (within the
 * batch) of the winner: the first maximum in row-major window order.
 */
export function maxPool(
  x: Float64Array,
  n: number,
  c: number,
  h: number,
  w: number,
  size: number,
): { out: Float64Array; winners: Int32Array } {
  const [, oh, ow] = poolShape(c, h, w, size);
  const out = new Float64Array(n * c * oh * ow);
  const winners = new Int32Array(out.length);
  let o = 0;
  for (let p = 0; p < n * c; p++) {
    for (let y = 0; y < oh; y++) {
      for (let xx = 0; xx < ow; xx++, o++) {
        let best = Number.NEGATIVE_INFINITY;
        let at = -1;
        for (let dy = 0; dy < size; dy++) {
          for (let dx = 0; dx < size; dx++) {
            const idx = p * h * w + (y * size + dy) * w + xx * size + dx;
            if (x[idx] > best) {
              best = x[idx];
              at = idx;
            }
          }
        }
        out[o] = best;
        winners[o] = at;
      }
    }
  }
  return { out, winners };
}

/**
 * Calls `visit(outIndex, inIndex)` for every input element of every window of a non-overlapping
 * pooling, so that pooling backward rules need no index arithmetic of their own.
 */
export function forEachPoolWindow(
  n: number,
  c: number,
  h: number,
  w: number,
  size: number,
  visit: (o: number, i: number) => void,
): void {
  const [, oh, ow] = poolShape(c, h, w, size);
  let o = 0;
  for (let p = 0; p < n * c; p++) {
    for (let y = 0; y < oh; y++) {
      for (let xx = 0; xx < ow; xx++, o++) {
        for (let dy = 0; dy < size; dy++) {
          for (let dx = 0; dx < size; dx++) visit(o, p * h * w + (y * size + dy) * w + xx * size + dx);
        }
      }
    }
  }
}

/** Average-pooling forward (non-overlapping windows). */
export function avgPool(
  x: Float64Array,
  n: number,
  c: number,
  h: number,
  w: number,
  size: number,
): Float64Array {
  const [, oh, ow] = poolShape(c, h, w, size);
  const out = new Float64Array(n * c * oh * ow);
  forEachPoolWindow(n, c, h, w, size, (o, i) => {
    out[o] += x[i];
  });
  const area = size * size;
  for (let o = 0; o < out.length; o++) out[o] /= area;
  return out;
}

/** Global average pooling of `n×c×plane` values to `n×c`. */
export function globalAvgPool(x: Float64Array, n: number, c: number, plane: number): Float64Array {
  const out = new Float64Array(n * c);
  for (let p = 0; p < n * c; p++) {
    let s = 0;
    for (let j = 0; j < plane; j++) s += x[p * plane + j];
    out[p] = s / plane;
  }
  return out;
}

/** Inference BatchNorm as a per-channel affine map: `scale = γ/√(σ²+ε)`, `shift = β − μ·scale`. */
export function batchNormAffine(
  gamma: Float64Array,
  beta: Float64Array,
  mean: Float64Array,
  variance: Float64Array,
  epsilon: number,
): { scale: Float64Array; shift: Float64Array } {
  const scale = new Float64Array(gamma.length);
  const shift = new Float64Array(gamma.length);
  for (let c = 0; c < gamma.length; c++) {
    scale[c] = gamma[c] / Math.sqrt(variance[c] + epsilon);
    shift[c] = beta[c] - mean[c] * scale[c];
  }
  return { scale, shift };
}

/** `x·scale[c] + shift[c]` per channel of `n×c×plane` values (shift may be null). */
export function channelAffine(
  x: Float64Array,
  n: number,
  c: number,
  plane: number,
  scale: Float64Array,
  shift: Float64Array | null,
): Float64Array {
  const out = new Float64Array(x.length);
  for (let b = 0; b < n; b++) {
    for (let k = 0; k < c; k++) {
      const base = (b * c + k) * plane;
      for (let j = 0; j < plane; j++) out[base + j] = x[base + j] * scale[k] + (shift ? shift[k] : 0);
    }
  }
  return out;
}

/** Element-wise map into a new Float64Array. */
export function mapF64(a: Float64Array, fn: (v: number, i: number) => number): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = fn(a[i], i);
  return out;
}

/** Reorder `n×h×w×c` to `n×c×h×w` (or back with `toLast`). */
export function permuteLayout(
  x: ArrayLike<number>,
  n: number,
  c: number,
  h: number,
  w: number,
  toLast: boolean,
): Float64Array {
  const out = new Float64Array(n * c * h * w);
  for (let b = 0; b < n; b++)
    for (let k = 0; k < c; k++)
      for (let y = 0; y < h; y++)
        for (let xx = 0; xx < w; xx++) {
          const first = ((b * c + k) * h + y) * w + xx;
          const last = ((b * h + y) * w + xx) * c + k;
          if (toLast) out[last] = x[first];
          else out[first] = x[last];
        }
  return out;
}
