import { OptionError, percentile, type Tensor } from '@xlens/core';

/**
 * How raw attribution values become colour positions in [0, 1]:
 * - `abs`: |v| ÷ max |v| (magnitude only, 0 → 0);
 * - `signed`: v ÷ max |v| mapped to [0, 1] with zero at 0.5, symmetric around 0 (for a diverging map);
 * - `percentile`: like `abs`, but the scale is the `clip`-th percentile of |v| (default 99), so a few
 *   extreme pixels do not wash the rest out; values above it saturate;
 * - `minmax`: (v − min) ÷ (max − min).
 * A constant map never yields NaN: it becomes all 0 (all 0.5 for `signed`).
 */
export type NormalizeMode = 'abs' | 'signed' | 'percentile' | 'minmax';

/** Every normalisation mode. */
export const normalizeModes: readonly NormalizeMode[] = ['abs', 'signed', 'percentile', 'minmax'];

/** Options of `normalizeMaps`. */
export interface NormalizeOptions {
  /** Default `abs`. */
  readonly mode?: NormalizeMode;
  /**
   * Percentile of |v| (0–100) used as the scale by `abs`, `signed` and `percentile`. Defaults: 100
   * for `abs` and `signed` (the maximum), 99 for `percentile`. Ignored by `minmax`.
   */
  readonly clip?: number;
  /**
   * One scale for every map and item passed (so they can be compared by colour), instead of one
   * per item of each map. Default false.
   */
  readonly shared?: boolean;
}

/** The raw values that map to the ends of the colour range, for labelling colour bars. */
export interface Scale {
  readonly mode: NormalizeMode;
  /** Raw value (of |v| for `abs`/`percentile`) at colour position 0. */
  readonly low: number;
  /** Raw value (of |v| for `abs`/`percentile`) at colour position 1. */
  readonly high: number;
  /** Whether 0.5 means zero and the map should use a diverging colormap. */
  readonly diverging: boolean;
  /** The percentile of |v| that set the scale, when below 100 (larger values saturate). */
  readonly clip?: number;
}

/** Normalised maps with the scale used for every item of every map. */
export interface NormalizedMaps {
  /** Same shapes as the inputs, values in [0, 1]. */
  readonly maps: Tensor[];
  /** `scales[m][i]`: scale of item `i` of map `m`. */
  readonly scales: Scale[][];
}

function checkOptions(options: NormalizeOptions): { mode: NormalizeMode; clip: number } {
  const mode = options.mode ?? 'abs';
  if (!normalizeModes.includes(mode)) {
    throw new OptionError(
      'invalid-option',
      `normalisation ${JSON.stringify(mode)} is unknown; use one of ${normalizeModes.join(', ')}`,
    );
  }
  const clip = options.clip ?? (mode === 'percentile' ? 99 : 100);
  if (typeof clip !== 'number' || !(clip > 0 && clip <= 100)) {
    throw new OptionError('invalid-option', `clip = ${clip} is invalid; expected a percentile in (0, 100]`);
  }
  return { mode, clip };
}

/** The scale of a set of values (one item, or everything when shared). Non-finite values are skipped. */
function scaleOf(values: readonly ArrayLike<number>[], mode: NormalizeMode, clip: number): Scale {
  if (mode === 'minmax') {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const part of values) {
      for (let j = 0; j < part.length; j++) {
        const v = part[j];
        if (!Number.isFinite(v)) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    if (lo > hi) lo = hi = 0;
    return { mode, low: lo, high: hi, diverging: false };
  }
  let s = 0;
  if (clip >= 100) {
    for (const part of values)
      for (let j = 0; j < part.length; j++) if (Number.isFinite(part[j])) s = Math.max(s, Math.abs(part[j]));
  } else {
    const mags: number[] = [];
    for (const part of values)
      for (let j = 0; j < part.length; j++) if (Number.isFinite(part[j])) mags.push(Math.abs(part[j]));
    s = mags.length > 0 ? percentile(mags, clip / 100) : 0;
  }
  const clipped = clip < 100 ? { clip } : {};
  return mode === 'signed'
    ? { mode, low: -s, high: s, diverging: true, ...clipped }
    : { mode, low: 0, high: s, diverging: false, ...clipped };
}

/** Map one raw value to [0, 1] under a scale; degenerate scales and NaN give the neutral position. */
export function applyScale(v: number, scale: Scale): number {
  const neutral = scale.diverging ? 0.5 : 0;
  if (!Number.isFinite(v)) return neutral;
  const range = scale.high - scale.low;
  if (!(range > 0)) return neutral;
  let t: number;
  if (scale.mode === 'minmax') t = (v - scale.low) / range;
  else if (scale.diverging) t = 0.5 + v / (2 * scale.high);
  else t = Math.abs(v) / scale.high;
  return Math.min(Math.max(t, 0), 1);
}

/**
 * Normalise one or more maps (each `N×…`, e.g. `N×H×W` pixel maps) to [0, 1]. Each item of each
 * map gets its own scale, unless `shared` puts all of them on one scale.
 */
export function normalizeMaps(
  maps: Tensor | readonly Tensor[],
  options: NormalizeOptions = {},
): NormalizedMaps {
  const list: readonly Tensor[] = Array.isArray(maps) ? maps : [maps as Tensor];
  const { mode, clip } = checkOptions(options);
  const items = list.map((t) => {
    const n = Math.max(t.shape[0] ?? 1, 1);
    const per = t.data.length / n;
    return Array.from({ length: n }, (_, i) => t.data.subarray(i * per, (i + 1) * per));
  });
  const shared = options.shared ? scaleOf(items.flat(), mode, clip) : null;
  const scales = items.map((parts) => parts.map((p) => shared ?? scaleOf([p], mode, clip)));
  const out = list.map((t, m) => {
    const data = new Float32Array(t.data.length);
    let offset = 0;
    items[m].forEach((part, i) => {
      for (let j = 0; j < part.length; j++) data[offset + j] = applyScale(part[j], scales[m][i]);
      offset += part.length;
    });
    return { data, shape: [...t.shape] };
  });
  return { maps: out, scales };
}
