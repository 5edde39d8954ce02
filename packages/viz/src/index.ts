/**
 * @xlens/viz — turn raw attributions into pictures: perceptually uniform and diverging colormaps,
 * explicit normalisation (abs, signed, percentile clip, min–max, shared scales), overlays on the
 * input as RGBA buffers, class legends for CLEAR maps, PNG encoding and a self-contained HTML
 * report. Runs in browsers and Node; file writing lives in `@xlens/viz/node`.
 */

export * from './class-map.js';
export {
  cieLightness,
  gamutMapOklch,
  oklabDistance,
  oklabToRgb8,
  rgb8ToOklab,
  type Triple,
} from './color-space.js';
export * from './colormaps.js';
export * from './grid.js';
export * from './image.js';
export * from './normalize.js';
export * from './png.js';
export * from './render.js';
export * from './report.js';
