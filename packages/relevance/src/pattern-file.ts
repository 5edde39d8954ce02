import {
  type FileSource,
  OptionError,
  parseNpz,
  readFileBytes,
  serializeNpz,
  sizeOf,
  type Tensor,
} from '@xlens/core';
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
 * Patterns as `.npz` bytes: one float32 `.npy` per layer, named after it, readable by
 * `numpy.load` (core's `serializeNpz`). The estimator is not recorded; the backward pass does not
 * need it. On Node.js: `writeFileSync('patterns.npz', patternsToNpz(p))`.
 */
export function patternsToNpz(patterns: Patterns): Uint8Array {
  return serializeNpz(Object.fromEntries(Object.entries(patterns.layers).map(([n, p]) => [n, p.pattern])));
}

/**
 * Patterns from the bytes of a file written by `patternsToNpz` (or `np.savez`, one array per
 * layer) when `source` ends in `.npz`, else by `patternsToJson`. `source` names the file in messages.
 */
export async function patternsFromBytes(bytes: Uint8Array, source: string): Promise<Patterns> {
  if (source.toLowerCase().endsWith('.npz')) {
    const arrays = await parseNpz(bytes, source);
    const layers = Object.fromEntries(Object.entries(arrays).map(([n, t]) => [n, { pattern: t }]));
    return { model: 'unknown', layers };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new OptionError(
      'invalid-option',
      `patterns = ${JSON.stringify(source)}: not valid JSON (${(err as Error).message})`,
    );
  }
  return patternsFromJson(parsed, `patterns file ${source}`);
}

/**
 * Load patterns from a `.npz` or JSON file through `files` (on Node.js `nodeFileReader` from
 * `@xlens/core/node`); without one, an error says how to pass one.
 */
export async function loadPatterns(path: string, files: FileSource | undefined): Promise<Patterns> {
  return patternsFromBytes(readFileBytes(files, path, 'patterns file'), path);
}
