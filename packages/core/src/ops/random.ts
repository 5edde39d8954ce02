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
      for (let i = 0; i < out.length; i++) out[i] = mean + std * normal();
      return out;
    },
    fillUniform(out, low = 0, high = 1) {
      for (let i = 0; i < out.length; i++) out[i] = low + (high - low) * uniform();
      return out;
    },
  };
}
