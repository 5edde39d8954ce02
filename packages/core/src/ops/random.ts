/** A seeded pseudo-random generator (mulberry32 for uniforms, Box–Muller for normals). */
export interface Rng {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal. */
  normal(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** Fill `out` with N(mean, std²) draws. */
  fillNormal(out: Float32Array, mean?: number, std?: number): Float32Array;
  /** Fill `out` with U[low, high) draws. */
  fillUniform(out: Float32Array, low?: number, high?: number): Float32Array;
}

/**
 * A deterministic RNG from a 32-bit seed and an optional stream number (independent sequences for
 * independent purposes under one user seed).
 */
export function createRng(seed: number, stream = 0): Rng {
  // Mix seed and stream so that nearby seeds give unrelated sequences.
  let state = (Math.imul((seed | 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(stream + 1, 0xc2b2ae35)) >>> 0;
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
      for (let i = 0; i < out.length; i++) out[i] = mean + std * normal();
      return out;
    },
    fillUniform(out, low = 0, high = 1) {
      for (let i = 0; i < out.length; i++) out[i] = low + (high - low) * uniform();
      return out;
    },
  };
}
