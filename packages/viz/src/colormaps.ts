import { OptionError } from '@xlens/core';
import { gamutMapOklch, oklabDistance, oklabToRgb8, type Triple } from './color-space.js';

/** Names of the built-in colormaps. */
export type ColormapName = 'lagoon' | 'ember' | 'dusk' | 'gray' | 'blue-red';

/**
 * A colour lookup table. `sequential` maps run dark → light for values 0 → 1; `diverging` maps are
 * white at 0.5 and saturate towards 0 (blue) and 1 (red), for signed attributions.
 */
export interface Colormap {
  readonly name: ColormapName;
  readonly kind: 'sequential' | 'diverging';
  /** Short description for legends. */
  readonly description: string;
  /** `size × 3` bytes, RGB. */
  readonly lut: Uint8Array;
  readonly size: number;
}

/** A path through OKLCh, t ∈ [0, 1]: lightness, chroma and hue (degrees, may exceed 360). */
interface Path {
  readonly lightness: (t: number) => number;
  readonly chroma: (t: number) => number;
  readonly hue: (t: number) => number;
}

const lerp = (a: number, b: number, t: number): number => a + (b - a) * t;
const bump = (t: number): number => Math.sin(Math.PI * t);

// Hand-chosen OKLCh paths. Lightness rises strictly so every map reads as "more = lighter" even in
// greyscale print; hue sweeps give the familiar viridis / inferno / magma character.
const paths: Record<'lagoon' | 'ember' | 'dusk', Path> = {
  // Deep violet → blue → teal → green → yellow (viridis-like).
  lagoon: {
    lightness: (t) => lerp(0.3, 0.93, t),
    chroma: (t) => lerp(0.13, 0.19, t * t) - 0.04 * bump(t),
    hue: (t) => lerp(305, 105, t),
  },
  // Near-black → indigo → crimson → orange → pale yellow (inferno-like).
  ember: {
    lightness: (t) => lerp(0.13, 0.97, t),
    chroma: (t) => 0.2 * bump(Math.min(t * 1.15, 1)) + 0.12 * t * t,
    hue: (t) => lerp(285, 465, t),
  },
  // Near-black → purple → rose → peach → cream (magma-like).
  dusk: {
    lightness: (t) => lerp(0.13, 0.98, t),
    chroma: (t) => 0.17 * bump(Math.min(t * 1.1, 1)) + 0.05 * t,
    hue: (t) => lerp(295, 440, t),
  },
};

/**
 * Sample a path finely, keep every colour inside sRGB, then resample at equal OKLab arc length so
 * consecutive entries differ by the same perceptual amount (the "perceptually uniform" property).
 */
function uniformTable(path: Path, size: number): Uint8Array {
  const fine = 2048;
  const points: Triple[] = [];
  for (let i = 0; i <= fine; i++) {
    const t = i / fine;
    points.push(gamutMapOklch(path.lightness(t), Math.max(path.chroma(t), 0), path.hue(t)));
  }
  const cumulative = new Float64Array(points.length);
  for (let i = 1; i < points.length; i++)
    cumulative[i] = cumulative[i - 1] + oklabDistance(points[i - 1], points[i]);
  const total = cumulative[points.length - 1];
  const lut = new Uint8Array(size * 3);
  let j = 0;
  for (let k = 0; k < size; k++) {
    const want = (k / (size - 1)) * total;
    while (j < points.length - 2 && cumulative[j + 1] < want) j++;
    const span = cumulative[j + 1] - cumulative[j];
    const f = span > 0 ? Math.min(Math.max((want - cumulative[j]) / span, 0), 1) : 0;
    const p = points[j];
    const q = points[j + 1];
    lut.set(oklabToRgb8([lerp(p[0], q[0], f), lerp(p[1], q[1], f), lerp(p[2], q[2], f)]), k * 3);
  }
  return lut;
}

/** Blue → white → red with equal lightness at both ends; each half is uniform in OKLab. */
function divergingTable(size: number): Uint8Array {
  const half = (size - 1) / 2;
  const blue = { L: 0.47, C: 0.17, h: 262 };
  const red = { L: 0.47, C: 0.19, h: 28 };
  const white = 0.985;
  const side = (end: typeof blue): Uint8Array =>
    uniformTable(
      { lightness: (t) => lerp(white, end.L, t), chroma: (t) => end.C * t, hue: () => end.h },
      half + 1,
    );
  const toBlue = side(blue);
  const toRed = side(red);
  const lut = new Uint8Array(size * 3);
  for (let k = 0; k <= half; k++) {
    lut.set(toBlue.subarray((half - k) * 3, (half - k) * 3 + 3), k * 3);
    lut.set(toRed.subarray(k * 3, k * 3 + 3), (half + k) * 3);
  }
  return lut;
}

function grayTable(size: number): Uint8Array {
  const lut = new Uint8Array(size * 3);
  for (let k = 0; k < size; k++) lut.fill(Math.round((255 * k) / (size - 1)), k * 3, k * 3 + 3);
  return lut;
}

/** Every built-in colormap name. */
export const colormapNames: readonly ColormapName[] = ['lagoon', 'ember', 'dusk', 'gray', 'blue-red'];

const descriptions: Record<ColormapName, string> = {
  lagoon: 'perceptually uniform, violet → teal → yellow (viridis-like)',
  ember: 'perceptually uniform, black → crimson → pale yellow (inferno-like)',
  dusk: 'perceptually uniform, black → rose → cream (magma-like)',
  gray: 'black → white',
  'blue-red': 'diverging: blue (negative) → white (zero) → red (positive)',
};

const cache = new Map<ColormapName, Colormap>();

/** A built-in colormap by name; tables are generated once, on first use. */
export function getColormap(name: string): Colormap {
  if (!colormapNames.includes(name as ColormapName)) {
    throw new OptionError(
      'invalid-option',
      `colormap ${JSON.stringify(name)} is unknown; use one of ${colormapNames.join(', ')}`,
    );
  }
  const key = name as ColormapName;
  let cmap = cache.get(key);
  if (!cmap) {
    // An odd size puts an entry exactly at 0.5, so zero is pure white in the diverging map.
    const size = key === 'blue-red' ? 257 : 256;
    const lut =
      key === 'gray'
        ? grayTable(size)
        : key === 'blue-red'
          ? divergingTable(size)
          : uniformTable(paths[key], size);
    cmap = {
      name: key,
      kind: key === 'blue-red' ? 'diverging' : 'sequential',
      description: descriptions[key],
      lut,
      size,
    };
    cache.set(key, cmap);
  }
  return cmap;
}

/** Index into a colormap's table for a value in [0, 1] (clamped; NaN counts as 0). */
export function colormapIndex(cmap: Colormap, value: number): number {
  const v = Number.isNaN(value) ? 0 : Math.min(Math.max(value, 0), 1);
  return Math.round(v * (cmap.size - 1));
}

/** The RGB colour of a value in [0, 1]. */
export function colorAt(cmap: Colormap, value: number): [number, number, number] {
  const k = colormapIndex(cmap, value) * 3;
  return [cmap.lut[k], cmap.lut[k + 1], cmap.lut[k + 2]];
}
