import { OptionError, sizeOf, type Tensor } from '@xlens/core';
import { nodeFs, nodeInflateRaw } from './node-fs.js';
import { decodeNpz, encodeNpz } from './npy.js';
import type { LayerPattern, PatternEstimator, Patterns } from './pattern-fit.js';

/** Patterns as plain JSON: `{ format, version, model, layers: { name: { estimator, shape, data } } }`. */
export function patternsToJson(patterns: Patterns): string {
  const layers = Object.fromEntries(
    Object.entries(patterns.layers).map(([name, p]) => [
      name,
      { estimator: p.estimator, shape: p.pattern.shape, data: Array.from(p.pattern.data) },
    ]),
  );
  return JSON.stringify({ format: 'xlens-patterns', version: 1, model: patterns.model, layers });
}

/** Patterns from a parsed JSON value (or an in-memory `Patterns`), validated. */
export function patternsFromJson(value: unknown, where = 'patterns'): Patterns {
  const v = (typeof value === 'string' ? JSON.parse(value) : value) as { model?: unknown; layers?: unknown };
  if (typeof v !== 'object' || v === null || typeof v.layers !== 'object' || v.layers === null) {
    throw new OptionError(
      'invalid-option',
      `${where} must be { model, layers: { layerName: { shape, data } } } (see fitPatterns)`,
    );
  }
  const layers: Record<string, LayerPattern> = {};
  for (const [name, raw] of Object.entries(v.layers as Record<string, unknown>)) {
    const p = raw as {
      estimator?: PatternEstimator;
      shape?: number[];
      data?: ArrayLike<number>;
      pattern?: Tensor;
    };
    const t = p.pattern ?? { data: p.data as ArrayLike<number>, shape: p.shape as number[] };
    if (!Array.isArray(t.shape) || !t.data || t.data.length !== sizeOf(t.shape)) {
      throw new OptionError(
        'invalid-option',
        `${where}: layer ${name} needs shape and data of matching size`,
      );
    }
    const pattern = { data: Float32Array.from(t.data), shape: [...t.shape] };
    layers[name] = p.estimator ? { estimator: p.estimator, pattern } : { pattern };
  }
  return { model: typeof v.model === 'string' ? v.model : 'unknown', layers };
}

/**
 * Save patterns to `path`: `.npz` (one float32 `.npy` per layer, readable by `numpy.load`) or JSON
 * otherwise. Node.js only.
 */
export function savePatterns(patterns: Patterns, path: string): void {
  const fs = nodeFs('savePatterns');
  if (path.endsWith('.npz')) {
    fs.writeFileSync(
      path,
      encodeNpz(Object.fromEntries(Object.entries(patterns.layers).map(([n, p]) => [n, p.pattern]))),
    );
  } else fs.writeFileSync(path, patternsToJson(patterns));
}

/** Load patterns saved by `savePatterns` (`.npz` or JSON). Node.js only. */
export function loadPatterns(path: string): Patterns {
  const fs = nodeFs(`patterns = ${JSON.stringify(path)}`);
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(path);
  } catch (err) {
    throw new OptionError(
      'invalid-option',
      `patterns = ${JSON.stringify(path)}: cannot read the file (${(err as Error).message})`,
    );
  }
  if (path.endsWith('.npz')) {
    const arrays = decodeNpz(bytes, nodeInflateRaw());
    // An .npz holds arrays only: the estimator is not recorded, and the backward pass does not need it.
    const layers = Object.fromEntries(Object.entries(arrays).map(([n, t]) => [n, { pattern: t }]));
    return { model: 'unknown', layers };
  }
  try {
    return patternsFromJson(JSON.parse(new TextDecoder().decode(bytes)), `patterns file ${path}`);
  } catch (err) {
    if (err instanceof OptionError) throw err;
    throw new OptionError(
      'invalid-option',
      `patterns = ${JSON.stringify(path)}: not valid JSON (${(err as Error).message})`,
    );
  }
}
