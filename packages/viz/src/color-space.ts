/**
 * Colour-space helpers used to generate the colormaps: OKLab (Ottosson 2020, a perceptual space in
 * which Euclidean distance approximates perceived colour difference) ↔ sRGB, and the CIE L*
 * lightness used to check them. Kept separate so the tests can measure maps independently.
 */

/** A colour as three numbers; meaning depends on the space. */
export type Triple = readonly [number, number, number];

/** sRGB transfer function: linear light → encoded value, both in [0, 1]. */
export function srgbEncode(v: number): number {
  return v <= 0.0031308 ? 12.92 * v : 1.055 * v ** (1 / 2.4) - 0.055;
}

/** Inverse sRGB transfer function: encoded value → linear light, both in [0, 1]. */
export function srgbDecode(v: number): number {
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

/** OKLab → linear sRGB (may leave [0, 1] when the colour is out of gamut). */
export function oklabToLinearSrgb([L, a, b]: Triple): Triple {
  const l = (L + 0.3963377774 * a + 0.2158037573 * b) ** 3;
  const m = (L - 0.1055613458 * a - 0.0638541728 * b) ** 3;
  const s = (L - 0.0894841775 * a - 1.291485548 * b) ** 3;
  return [
    4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s,
    -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s,
    -0.0041960863 * l - 0.7034186147 * m + 1.707614701 * s,
  ];
}

/** Linear sRGB → OKLab. */
export function linearSrgbToOklab([r, g, b]: Triple): Triple {
  const l = Math.cbrt(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b);
  const m = Math.cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b);
  const s = Math.cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b);
  return [
    0.2104542553 * l + 0.793617785 * m - 0.0040720468 * s,
    1.9779984951 * l - 2.428592205 * m + 0.4505937099 * s,
    0.0259040371 * l + 0.7827717662 * m - 0.808675766 * s,
  ];
}

/** OKLCh (lightness, chroma, hue in degrees) → OKLab. */
export function oklchToOklab(L: number, C: number, hueDegrees: number): Triple {
  const h = (hueDegrees * Math.PI) / 180;
  return [L, C * Math.cos(h), C * Math.sin(h)];
}

const inGamut = (rgb: Triple): boolean => rgb.every((v) => v >= -1e-6 && v <= 1 + 1e-6);

/**
 * The OKLab colour of lightness `L` and hue `hueDegrees` with the largest chroma ≤ `C` that sRGB
 * can show. Lowering chroma at fixed lightness keeps the lightness ramp of a map intact, which
 * clipping the RGB channels would not.
 */
export function gamutMapOklch(L: number, C: number, hueDegrees: number): Triple {
  if (inGamut(oklabToLinearSrgb(oklchToOklab(L, C, hueDegrees)))) return oklchToOklab(L, C, hueDegrees);
  let lo = 0;
  let hi = C;
  for (let i = 0; i < 30; i++) {
    const mid = (lo + hi) / 2;
    if (inGamut(oklabToLinearSrgb(oklchToOklab(L, mid, hueDegrees)))) lo = mid;
    else hi = mid;
  }
  return oklchToOklab(L, lo, hueDegrees);
}

/** OKLab → 8-bit sRGB, clamped. */
export function oklabToRgb8(lab: Triple): Triple {
  const lin = oklabToLinearSrgb(lab);
  return lin.map((v) => Math.round(255 * srgbEncode(Math.min(Math.max(v, 0), 1)))) as unknown as Triple;
}

/** 8-bit sRGB → OKLab. */
export function rgb8ToOklab(rgb: Triple): Triple {
  return linearSrgbToOklab(rgb.map((v) => srgbDecode(v / 255)) as unknown as Triple);
}

/** CIE 1976 L* (0 black … 100 white) of an 8-bit sRGB colour, from its relative luminance Y. */
export function cieLightness(rgb: Triple): number {
  const [r, g, b] = rgb.map((v) => srgbDecode(v / 255));
  const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return y > 216 / 24389 ? 116 * Math.cbrt(y) - 16 : (24389 / 27) * y;
}

/** Euclidean distance of two OKLab colours (a perceptual colour difference). */
export function oklabDistance(p: Triple, q: Triple): number {
  return Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
}
