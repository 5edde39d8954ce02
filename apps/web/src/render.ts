import { serializeNpy } from '@xlens/core';
import {
  colorBar,
  encodePng,
  formatNumber,
  type RenderedMap,
  type RgbaImage,
  renderAttributions,
  toPixelMap,
} from '@xlens/viz';
import type { ExplainResult } from './protocol.js';

/** Draw an RGBA image into a canvas of its size. */
export function drawImage(canvas: HTMLCanvasElement, image: RgbaImage): void {
  canvas.width = image.width;
  canvas.height = image.height;
  const data = new Uint8ClampedArray(image.data);
  canvas.getContext('2d')!.putImageData(new ImageData(data, image.width, image.height), 0, 0);
}

const asAttribution = (r: ExplainResult) => ({
  map: { data: r.map, shape: [...r.shape] },
  mapKind: r.mapKind,
  layout: r.layout,
});

/** `signed` when the pixel map has both signs, else `abs`; both clipped at the 99th percentile (as the CLI's report). */
function modeOf(r: ExplainResult): 'signed' | 'abs' {
  const pixel = toPixelMap(asAttribution(r));
  let neg = false;
  let pos = false;
  for (const v of pixel.data) {
    if (v < 0) neg = true;
    else if (v > 0) pos = true;
  }
  return neg && pos ? 'signed' : 'abs';
}

/** Overlays of results on one picture, each on its own scale, or on one shared scale. */
export function renderResults(
  results: readonly ExplainResult[],
  image: RgbaImage,
  shared = false,
): RenderedMap[] {
  const mode = results.some((r) => modeOf(r) === 'signed') ? 'signed' : 'abs';
  if (shared)
    return renderAttributions(results.map(asAttribution), [image], {
      normalize: mode,
      shared: true,
      clip: 99,
    }).map((m) => m[0]);
  return results.map(
    (r) => renderAttributions([asAttribution(r)], [image], { normalize: modeOf(r), clip: 99 })[0][0],
  );
}

/** A colour bar with the raw values at its ends (and zero in the middle of a diverging one). */
export function colorBarElement(rendered: RenderedMap): HTMLElement {
  const box = document.createElement('div');
  box.className = 'colorbar';
  const canvas = document.createElement('canvas');
  drawImage(canvas, colorBar(rendered.colormap, 160, 10));
  const { scale } = rendered;
  const labels = document.createElement('div');
  labels.className = 'colorbar-labels';
  const ends = scale.diverging
    ? [`−${formatNumber(scale.high)}`, '0', formatNumber(scale.high)]
    : [formatNumber(scale.low), formatNumber(scale.high)];
  for (const t of ends) {
    const span = document.createElement('span');
    span.textContent = t;
    labels.append(span);
  }
  box.title = `${scale.mode}${scale.clip !== undefined ? `, clipped at the ${scale.clip}th percentile of |value|` : ''}; colormap ${rendered.colormap.name}`;
  box.append(canvas, labels);
  return box;
}

/** A download link for bytes. */
export function downloadLink(
  text: string,
  fileName: string,
  bytes: Uint8Array,
  type: string,
): HTMLAnchorElement {
  const a = document.createElement('a');
  a.textContent = text;
  a.download = fileName;
  a.href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  a.className = 'download';
  a.dataset.kind = fileName.endsWith('.npy') ? 'npy' : 'png';
  return a;
}

/** The raw map as `.npy` bytes (float32, in the shape the method returned). */
export function npyBytes(r: ExplainResult): Uint8Array {
  return serializeNpy({ data: r.map, shape: [...r.shape] });
}

export { encodePng };
