/** A seeded pseudo-random generator (mulberry32 for uniforms, Box–Muller for normals). */
export interface Rng {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal. */
  normal(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /**
   * Fill `out` with N(mean, std²) draws. Same distribution as `normal()`, not the same sequence:
   * bulk draws use the ziggurat (several times faster than Box–Muller; ADR 0012).
   */
  fillNormal<T extends Float32Array | Float64Array>(out: T, mean?: number, std?: number): T;
  /** Fill `out` with U[low, high) draws. */
  fillUniform(out: Float32Array, low?: number, high?: number): Float32Array;
}

/**
 * A deterministic RNG from a 32-bit seed and an optional stream number (independent sequences for
 * independent purposes under one user seed).
 */
export function createRng(seed: number, stream = 0): Rng {
  // Mix seed and stream so that nearby seeds give unrelated sequences.
  return rngFromState(
    (Math.imul((seed | 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(stream + 1, 0xc2b2ae35)) >>> 0,
  );
}

/** murmur3's 32-bit finaliser: every input bit moves about half of the output bits. */
function mix32(h: number): number {
  let x = h >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * The RNG of sample `sample` of stream `stream` under `seed`: its draws depend on these three
 * numbers only, so sample-based methods give each item the same noise whether it is explained
 * alone or inside a batch, at any position (ADR 0003).
 */
export function createSampleRng(seed: number, stream: number, sample: number): Rng {
  const h = mix32(
    mix32(mix32((seed | 0) ^ 0x9e3779b9) ^ Math.imul(stream + 1, 0x27d4eb2f)) ^
      Math.imul(sample + 1, 0x165667b1),
  );
  return rngFromState(h);
}

/*
 * Ziggurat tables for standard normals (Marsaglia & Tsang, 2000, "The Ziggurat Method for Generating
 * Random Variables", J. Stat. Softw. 5(8)): 128 layers of equal area `zigArea` under the density,
 * the base layer carrying the tail beyond `zigTail`. A draw takes one 32-bit uniform: its low 7 bits
 * pick the layer, its top 25 bits (sign included) the position, so the layer and the value use
 * separate bits (the original algorithm reuses the layer bits inside the value, a known bias).
 * `zigWidth[i]` scales a position to layer i's right edge x_i; `zigInside[i]` is the fraction of
 * layer i lying wholly under the curve (x_{i−1}/x_i, in position units); `zigDensity[i]` = f(x_i).
 */
const zigTail = 3.442619855899;
const zigArea = 9.91256303526217e-3;
const zigUnits = 2 ** 24;
const zigInside = new Float64Array(128);
const zigWidth = new Float64Array(128);
const zigDensity = new Float64Array(128);
{
  const f = (x: number) => Math.exp(-0.5 * x * x);
  let x = zigTail;
  const base = zigArea / f(x);
  zigInside[0] = Math.floor((x / base) * zigUnits);
  zigInside[1] = 0;
  zigWidth[0] = base / zigUnits;
  zigWidth[127] = x / zigUnits;
  zigDensity[0] = 1;
  zigDensity[127] = f(x);
  for (let i = 126; i >= 1; i--) {
    const above = x;
    x = Math.sqrt(-2 * Math.log(zigArea / x + f(x)));
    zigInside[i + 1] = Math.floor((x / above) * zigUnits);
    zigDensity[i] = f(x);
    zigWidth[i] = x / zigUnits;
  }
}

/**
 * The ziggurat's rejection steps for a draw that fell outside layer `layer`'s inner rectangle:
 * the wedge test against the density, or the tail for the base layer, retrying with fresh draws.
 */
function zigguratSlow(layer: number, at: number, uniform: () => number): number {
  /** Uniform in (0, 1], for logarithms. */
  const open = () => 1 - uniform();
  for (;;) {
    if (layer === 0) {
      // The tail beyond zigTail (Marsaglia's exponential rejection).
      let dx: number;
      let dy: number;
      do {
        dx = -Math.log(open()) / zigTail;
        dy = -Math.log(open());
      } while (dy + dy < dx * dx);
      return at >= 0 ? zigTail + dx : -zigTail - dx;
    }
    const x = at * zigWidth[layer];
    if (zigDensity[layer] + uniform() * (zigDensity[layer - 1] - zigDensity[layer]) < Math.exp(-0.5 * x * x))
      return x;
    const b = (uniform() * 4294967296) | 0;
    layer = b & 127;
    at = b >> 7;
    if (Math.abs(at) < zigInside[layer]) return at * zigWidth[layer];
  }
}

function rngFromState(initial: number): Rng {
  let state = initial >>> 0;
  let spare: number | null = null;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (): number => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = uniform();
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  return {
    uniform,
    normal,
    int: (n) => Math.floor(uniform() * n),
    fillNormal(out, mean = 0, std = 1) {
      // The generator's state is kept in a local on the fast path (a closure variable would be a
      // memory access per draw); the rare rejections go through `zigguratSlow` with it written back.
      // Int32 arithmetic throughout (same bits as the uint32 form, no conversions to doubles).
      let s = state | 0;
      for (let i = 0; i < out.length; i++) {
        s = (s + 0x6d2b79f5) | 0;
        let t = s;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= (t + Math.imul(t ^ (t >>> 7), t | 61)) | 0;
        const b = t ^ (t >>> 14);
        const layer = b & 127;
        const at = b >> 7;
        let z: number;
        if (Math.abs(at) < zigInside[layer]) z = at * zigWidth[layer];
        else {
          state = s >>> 0;
          z = zigguratSlow(layer, at, uniform);
          s = state | 0;
        }
        out[i] = mean + std * z;
      }
      state = s >>> 0;
      return out;
    },
    fillUniform(out, low = 0, high = 1) {
      for (let i = 0; i < out.length; i++) out[i] = low + (high - low) * uniform();
      return out;
    },
  };
}
