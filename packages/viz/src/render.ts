import { type Attribution, type ChannelReduction, InputError, type Tensor } from '@xlens/core';
import { type Colormap, getColormap } from './colormaps.js';
import { colorize, heatAlpha, overlay, type RgbaImage, resizeMaps, toPixelMap } from './image.js';
import { type NormalizeMode, normalizeMaps, type Scale } from './normalize.js';

/** Options of `renderAttributions`. */
export interface RenderOptions {
  /** Default `abs`; see `NormalizeMode`. */
  readonly normalize?: NormalizeMode;
  /** Percentile used as the scale (see `NormalizeOptions.clip`). */
  readonly clip?: number;
  /** One colour scale across all attributions and items. Default false. */
  readonly shared?: boolean;
  /** Colormap name; default `blue-red` for signed maps, `ember` otherwise. */
  readonly colormap?: string;
  /** Heatmap opacity in the overlay, [0, 1]. Default 0.6. */
  readonly alpha?: number;
  /** How input-shaped maps are collapsed to one value per pixel. Default `sum`. */
  readonly reduction?: ChannelReduction;
}

/** One rendered map of one item. */
export interface RenderedMap {
  /** The map coloured over the (greyed) image. */
  readonly overlay: RgbaImage;
  /** The map alone, coloured. */
  readonly raw: RgbaImage;
  readonly scale: Scale;
  readonly colormap: Colormap;
  /** The pixel map at image size, before normalisation (for statistics). */
  readonly values: Float32Array;
}

/** The default colormap for a normalisation: diverging for signed maps. */
export function defaultColormap(mode: NormalizeMode): Colormap {
  return getColormap(mode === 'signed' ? 'blue-red' : 'ember');
}

/**
 * Turn attributions into pictures: collapse channels, resize each map to its image (bilinear),
 * normalise (per item, or on one shared scale), colour and overlay. `images[i]` is the picture of
 * batch item `i` (all of one size, usually the model's input size); every attribution must cover
 * the same items. Returns `[attribution][item]`.
 */
export function renderAttributions(
  attributions: readonly Pick<Attribution, 'map' | 'mapKind' | 'layout'>[],
  images: readonly RgbaImage[],
  options: RenderOptions = {},
): RenderedMap[][] {
  const mode = options.normalize ?? 'abs';
  const cmap = options.colormap ? getColormap(options.colormap) : defaultColormap(mode);
  if (images.length === 0)
    throw new InputError('invalid-input', 'renderAttributions needs at least one image');
  const { width, height } = images[0];
  if (images.some((img) => img.width !== width || img.height !== height)) {
    throw new InputError(
      'invalid-shape',
      'renderAttributions needs images of one size (the size the model saw)',
    );
  }
  const resized: Tensor[] = attributions.map((a) => {
    const pixel = toPixelMap(a, options.reduction ?? 'sum');
    if (pixel.shape[0] !== images.length) {
      throw new InputError(
        'invalid-shape',
        `an attribution has ${pixel.shape[0]} items but ${images.length} images were given`,
      );
    }
    return resizeMaps(pixel, height, width);
  });
  const { maps, scales } = normalizeMaps(resized, { mode, clip: options.clip, shared: options.shared });
  const n = width * height;
  return maps.map((m, a) =>
    images.map((img, i) => {
      const values = m.data.subarray(i * n, (i + 1) * n);
      const heat = colorize(values, img.width, img.height, cmap);
      const weights = heatAlpha(values, scales[a][i].diverging);
      return {
        overlay: overlay(img, heat, { alpha: options.alpha ?? 0.6, weights }),
        raw: heat,
        scale: scales[a][i],
        colormap: cmap,
        values: resized[a].data.slice(i * n, (i + 1) * n),
      };
    }),
  );
}
