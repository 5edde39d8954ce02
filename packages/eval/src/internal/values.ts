import type { OptionSpec } from '@xlens/core';

/** How a map's values count in a mass or an energy. */
export type ValueMode = 'positive' | 'abs' | 'signed';

/** The option spec of a `ValueMode` restricted to `allowed`. */
export function valueModeSpec(allowed: readonly ValueMode[], doc: string): OptionSpec {
  return { type: 'enum', doc, values: allowed };
}

/** One item's values under a mode: the positive part, the magnitude, or as they are (float64). */
export function modeValues(values: ArrayLike<number>, mode: ValueMode): Float64Array {
  const out = Float64Array.from(values as ArrayLike<number>);
  if (mode === 'positive') for (let i = 0; i < out.length; i++) out[i] = Math.max(out[i], 0);
  else if (mode === 'abs') for (let i = 0; i < out.length; i++) out[i] = Math.abs(out[i]);
  return out;
}

/** Share of the total of `values` that falls where `mask` is 1; NaN when the total is 0. */
export function massInside(values: ArrayLike<number>, mask: ArrayLike<number>): number {
  let inside = 0;
  let total = 0;
  for (let p = 0; p < values.length; p++) {
    total += values[p];
    if (mask[p] === 1) inside += values[p];
  }
  return total !== 0 ? inside / total : Number.NaN;
}

/** Number of ones in a mask. */
export function maskSize(mask: ArrayLike<number>): number {
  let s = 0;
  for (let p = 0; p < mask.length; p++) s += mask[p];
  return s;
}
