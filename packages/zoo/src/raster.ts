import type { Rng } from '@xlens/core';

/** An RGB colour with components in [0, 1]. */
export type Rgb = readonly [number, number, number];

/** The six shape kinds, in class-index order. */
export const SHAPE_KINDS = ['circle', 'square', 'triangle', 'star', 'cross', 'ring'] as const;

/** One shape kind. */
export type ShapeKind = (typeof SHAPE_KINDS)[number];

/** Where and how a shape is drawn: centre and outer radius in pixels, rotation in radians. */
export interface ShapeGeometry {
  readonly kind: ShapeKind;
  readonly cx: number;
  readonly cy: number;
  readonly radius: number;
  readonly angle: number;
}

/** Supersampling grid per pixel axis: 4×4 samples give 17 coverage levels, enough for smooth edges. */
const SUPERSAMPLE = 4;

/** Vertices of a regular star/polygon (alternating outer and inner radius when `inner` is set). */
function polygon(points: number, outer: number, inner?: number): Float64Array {
  const count = inner === undefined ? points : 2 * points;
  const out = new Float64Array(2 * count);
  for (let k = 0; k < count; k++) {
    // Start pointing up (−v) so that rotation 0 gives the familiar upright triangle/star.
    const a = -Math.PI / 2 + (2 * Math.PI * k) / count;
    const r = inner !== undefined && k % 2 === 1 ? inner : outer;
    out[2 * k] = r * Math.cos(a);
    out[2 * k + 1] = r * Math.sin(a);
  }
  return out;
}

/** Even–odd point-in-polygon test (handles the concave star). */
function insidePolygon(poly: Float64Array, u: number, v: number): boolean {
  let inside = false;
  const n = poly.length / 2;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const ui = poly[2 * i];
    const vi = poly[2 * i + 1];
    const uj = poly[2 * j];
    const vj = poly[2 * j + 1];
    if (vi > v !== vj > v && u < ((uj - ui) * (v - vi)) / (vj - vi) + ui) inside = !inside;
  }
  return inside;
}

/** A point-membership test in the shape's own frame (origin at the centre, unrotated). */
function membership(kind: ShapeKind, r: number): (u: number, v: number) => boolean {
  switch (kind) {
    case 'circle':
      return (u, v) => u * u + v * v <= r * r;
    case 'ring': {
      const inner = 0.55 * r;
      return (u, v) => {
        const d = u * u + v * v;
        return d <= r * r && d >= inner * inner;
      };
    }
    case 'square': {
      const h = 0.78 * r;
      return (u, v) => Math.abs(u) <= h && Math.abs(v) <= h;
    }
    case 'triangle': {
      const poly = polygon(3, r);
      return (u, v) => insidePolygon(poly, u, v);
    }
    case 'star': {
      const poly = polygon(5, r, 0.42 * r);
      return (u, v) => insidePolygon(poly, u, v);
    }
    case 'cross': {
      const w = 0.3 * r;
      return (u, v) => (Math.abs(u) <= w && Math.abs(v) <= r) || (Math.abs(v) <= w && Math.abs(u) <= r);
    }
  }
}

/**
 * Fraction of each pixel covered by the shape, by 4×4 supersampling: an `size×size` map in [0, 1].
 * Only pixels within the shape's bounding circle are sampled.
 */
export function coverage(g: ShapeGeometry, size: number): Float32Array {
  const out = new Float32Array(size * size);
  const inside = membership(g.kind, g.radius);
  const cos = Math.cos(g.angle);
  const sin = Math.sin(g.angle);
  const y0 = Math.max(0, Math.floor(g.cy - g.radius - 1));
  const y1 = Math.min(size - 1, Math.ceil(g.cy + g.radius + 1));
  const x0 = Math.max(0, Math.floor(g.cx - g.radius - 1));
  const x1 = Math.min(size - 1, Math.ceil(g.cx + g.radius + 1));
  const step = 1 / SUPERSAMPLE;
  const weight = 1 / (SUPERSAMPLE * SUPERSAMPLE);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      let hits = 0;
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        const dy = y + (sy + 0.5) * step - g.cy;
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          const dx = x + (sx + 0.5) * step - g.cx;
          if (inside(dx * cos + dy * sin, -dx * sin + dy * cos)) hits++;
        }
      }
      out[y * size + x] = hits * weight;
    }
  }
  return out;
}

/** A colour from hue, saturation and value (all in [0, 1]). */
export function hsv(h: number, s: number, v: number): Rgb {
  const f = (n: number): number => {
    const k = (n + h * 6) % 6;
    return v - v * s * Math.max(0, Math.min(k, 4 - k, 1));
  };
  return [f(5), f(3), f(1)];
}

function lerp(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

/** Background texture kinds. */
export const BACKGROUND_KINDS = ['gradient', 'stripes', 'noise'] as const;

/** A muted random colour: backgrounds stay less saturated than shapes. */
function mutedColour(rng: Rng): Rgb {
  return hsv(rng.uniform(), 0.1 + 0.45 * rng.uniform(), 0.2 + 0.6 * rng.uniform());
}

/**
 * Paint a textured background into an HWC `size×size×3` buffer: a linear gradient, soft stripes at a
 * random angle and period, or smooth value noise, plus fine per-pixel noise. Returns its mean colour
 * (used to pick a contrasting shape colour).
 */
export function paintBackground(out: Float32Array, size: number, rng: Rng): Rgb {
  const kind = BACKGROUND_KINDS[rng.int(BACKGROUND_KINDS.length)];
  const a = mutedColour(rng);
  // The second texture colour lies halfway to another muted colour: textures stay visible but their
  // edges are weaker than a shape's, as in natural images where the object stands out.
  const b = lerp(a, mutedColour(rng), 0.5);
  const angle = rng.uniform() * Math.PI;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  let field: (x: number, y: number) => number;
  if (kind === 'gradient') {
    field = (x, y) => 0.5 + ((x - size / 2) * cos + (y - size / 2) * sin) / (size * 1.42);
  } else if (kind === 'stripes') {
    const period = 5 + 9 * rng.uniform();
    const phase = rng.uniform() * 2 * Math.PI;
    field = (x, y) => 0.5 + 0.5 * Math.sin(((x * cos + y * sin) * 2 * Math.PI) / period + phase);
  } else {
    // Value noise: bilinear interpolation of a coarse random grid.
    const cells = 3 + rng.int(6);
    const grid = new Float32Array((cells + 1) * (cells + 1));
    rng.fillUniform(grid);
    const scale = cells / size;
    field = (x, y) => {
      const gx = x * scale;
      const gy = y * scale;
      const ix = Math.min(cells - 1, Math.floor(gx));
      const iy = Math.min(cells - 1, Math.floor(gy));
      const fx = gx - ix;
      const fy = gy - iy;
      const w = cells + 1;
      const top = grid[iy * w + ix] * (1 - fx) + grid[iy * w + ix + 1] * fx;
      const bottom = grid[(iy + 1) * w + ix] * (1 - fx) + grid[(iy + 1) * w + ix + 1] * fx;
      return top * (1 - fy) + bottom * fy;
    };
  }
  const grain = 0.01 + 0.04 * rng.uniform();
  const mean = [0, 0, 0];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const c = lerp(a, b, field(x + 0.5, y + 0.5));
      const o = 3 * (y * size + x);
      for (let ch = 0; ch < 3; ch++) {
        const v = c[ch] + grain * rng.normal();
        out[o + ch] = v;
        mean[ch] += v;
      }
    }
  }
  const n = size * size;
  return [mean[0] / n, mean[1] / n, mean[2] / n];
}

/** A saturated shape colour at least `minDistance` (Euclidean RGB) away from `avoid`. */
export function contrastingColour(rng: Rng, avoid: Rgb, minDistance = 0.45): Rgb {
  let best: Rgb = [1, 1, 1];
  let bestDistance = -1;
  for (let attempt = 0; attempt < 16; attempt++) {
    const c = hsv(rng.uniform(), 0.55 + 0.45 * rng.uniform(), 0.55 + 0.45 * rng.uniform());
    const d = Math.hypot(c[0] - avoid[0], c[1] - avoid[1], c[2] - avoid[2]);
    if (d >= minDistance) return c;
    if (d > bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** Alpha-composite a flat colour over `out` (HWC) with per-pixel coverage × opacity. */
export function composite(out: Float32Array, cover: Float32Array, colour: Rgb, opacity: number): void {
  for (let p = 0; p < cover.length; p++) {
    const a = cover[p] * opacity;
    if (a === 0) continue;
    for (let ch = 0; ch < 3; ch++) out[3 * p + ch] += (colour[ch] - out[3 * p + ch]) * a;
  }
}

/** Clamp every value into [0, 1]. */
export function clamp01(out: Float32Array): void {
  for (let i = 0; i < out.length; i++) out[i] = Math.min(1, Math.max(0, out[i]));
}
