import { InputError } from '@xlens/core';
import { gamutMapOklch, oklabToRgb8 } from './color-space.js';
import { createImage, type RgbaImage } from './image.js';

/** One entry of a class legend. */
export interface LegendEntry {
  readonly index: number;
  readonly label: string;
  /** RGB, 0–255. */
  readonly color: readonly [number, number, number];
}

/**
 * `count` distinct class colours: hues evenly spaced in OKLCh, hue neighbours alternating between
 * a darker and a lighter tone, listed in a strided order so the first few classes are already far
 * apart. Distinguishable up to about ten classes, the range the CLEAR legend is meant for.
 */
export function classPalette(count: number): [number, number, number][] {
  const k = Math.max(Math.floor(count), 1);
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  let stride = Math.max(Math.round(k * 0.3), 1);
  while (gcd(stride, k) !== 1) stride++;
  const out: [number, number, number][] = [];
  for (let i = 0; i < count; i++) {
    const slot = (i * stride) % k;
    const lightness = slot % 2 === 0 ? 0.64 : 0.84;
    out.push(oklabToRgb8(gamutMapOklch(lightness, 0.16, 25 + (360 * slot) / k)) as [number, number, number]);
  }
  return out;
}

/** The legend for the classes present in a class-index map (ascending index). */
export function classLegend(
  classIndex: ArrayLike<number>,
  labels: readonly string[] = [],
  palette?: readonly (readonly [number, number, number])[],
): LegendEntry[] {
  const present = [...new Set(Array.from(classIndex, (v) => Math.round(v)))]
    .filter((v) => v >= 0)
    .sort((a, b) => a - b);
  const colors = palette ?? classPalette(Math.max(...present, -1) + 1);
  return present.map((index) => ({
    index,
    label: labels[index] ?? `class ${index}`,
    color: colors[index % colors.length] as [number, number, number],
  }));
}

/**
 * A CLEAR picture (Kumar, Wong & Taylor 2017, CVPR Workshops, class-enhanced attentive response):
 * each pixel takes the colour
 * of its dominant class, its brightness scaled by the dominant response in [0, 1] (dark = weak),
 * so one image shows both where each class wins and how strongly.
 */
export function colorizeClasses(
  classIndex: ArrayLike<number>,
  response: ArrayLike<number>,
  width: number,
  height: number,
  palette: readonly (readonly [number, number, number])[],
): RgbaImage {
  const n = width * height;
  if (classIndex.length !== n || response.length !== n) {
    throw new InputError(
      'invalid-shape',
      `colorizeClasses got ${classIndex.length} classes and ${response.length} responses for ${width}×${height}`,
    );
  }
  if (palette.length === 0)
    throw new InputError('invalid-input', 'colorizeClasses needs a non-empty palette');
  const img = createImage(width, height);
  for (let p = 0; p < n; p++) {
    const c = palette[Math.max(Math.round(classIndex[p]), 0) % palette.length];
    const r = Number.isFinite(response[p]) ? Math.min(Math.max(response[p], 0), 1) : 0;
    const k = 0.15 + 0.85 * r;
    img.data[p * 4] = c[0] * k;
    img.data[p * 4 + 1] = c[1] * k;
    img.data[p * 4 + 2] = c[2] * k;
    img.data[p * 4 + 3] = 255;
  }
  return img;
}
