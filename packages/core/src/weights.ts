import type { WeightParam, WeightTransform } from './model.js';
import { createRng } from './ops/random.js';

function stdOf(values: Float32Array): number {
  let mean = 0;
  for (const v of values) mean += v;
  mean /= Math.max(values.length, 1);
  let s = 0;
  for (const v of values) s += (v - mean) ** 2;
  return Math.sqrt(s / Math.max(values.length, 1));
}

/** FNV-1a hash of a layer name: unlike `layerIndex`, the name is the same on every backend. */
function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function paramSeed(seed: number, p: WeightParam): number {
  return (
    (Math.imul(seed, 1000003) +
      Math.imul(nameHash(p.layer), 31) +
      (p.role === 'weight' ? 1 : p.role === 'bias' ? 2 : 3)) |
    0
  );
}

/**
 * Re-initialise the weights (and biases) of the named layers with N(0, s²), s the standard
 * deviation of the original tensor (or of fan-in He init when that is 0, e.g. a zero bias stays
 * zero), deterministic per seed and layer name (so every backend draws the same values). The randomisation of the sanity checks
 * (Adebayo et al., 2018, arXiv:1810.03292).
 */
export function randomizeLayers(layers: Iterable<string>, seed = 0): WeightTransform {
  const names = new Set(layers);
  return (p) => {
    if (!names.has(p.layer) || p.role === 'other') return undefined;
    const std = stdOf(p.values);
    const fanIn = p.shape.length > 1 ? p.shape.slice(1).reduce((a, b) => a * b, 1) : 0;
    const s = std > 0 ? std : p.role === 'weight' && fanIn > 0 ? Math.sqrt(2 / fanIn) : 0;
    const out = new Float32Array(p.values.length);
    if (s > 0) createRng(paramSeed(seed, p), 7).fillNormal(out, 0, s);
    return out;
  };
}

/**
 * Multiply every weight by noise drawn from N(1, σ²), deterministic per seed and layer
 * (NoiseGrad, Bykov et al., 2022, arXiv:2106.10185). `layers` limits it to some layers; biases are
 * perturbed too unless `biases` is false.
 */
export function multiplicativeNoise(
  sigma: number,
  seed = 0,
  options: { layers?: Iterable<string>; biases?: boolean } = {},
): WeightTransform {
  const names = options.layers ? new Set(options.layers) : null;
  const biases = options.biases ?? true;
  return (p) => {
    if (names && !names.has(p.layer)) return undefined;
    if (p.role === 'other' || (p.role === 'bias' && !biases)) return undefined;
    const out = createRng(paramSeed(seed, p), 11).fillNormal(new Float32Array(p.values.length), 1, sigma);
    for (let i = 0; i < out.length; i++) out[i] *= p.values[i];
    return out;
  };
}
