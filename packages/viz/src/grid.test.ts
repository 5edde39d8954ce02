import { describe, expect, it } from 'vitest';
import { getColormap } from './colormaps.js';
import { channelTiles, filterTiles, imageGrid, imageInRange } from './grid.js';
import { createImage } from './image.js';
import { buildReport } from './report.js';

const solid = (w: number, h: number, rgb: [number, number, number]) => {
  const im = createImage(w, h);
  for (let p = 0; p < w * h; p++) im.data.set([...rgb, 255], p * 4);
  return im;
};

describe('image grids', () => {
  it('lays tiles out row by row with gaps, magnified by whole pixels', () => {
    const grid = imageGrid([solid(2, 2, [255, 0, 0]), solid(2, 2, [0, 255, 0]), solid(2, 2, [0, 0, 255])], {
      columns: 2,
      gap: 1,
      scale: 2,
      background: [9, 9, 9],
    });
    expect([grid.width, grid.height]).toEqual([9, 9]);
    const px = (x: number, y: number) => Array.from(grid.data.slice((y * 9 + x) * 4, (y * 9 + x) * 4 + 4));
    expect(px(3, 3)).toEqual([255, 0, 0, 255]);
    expect(px(4, 0)).toEqual([9, 9, 9, 255]);
    expect(px(5, 0)).toEqual([0, 255, 0, 255]);
    expect(px(0, 5)).toEqual([0, 0, 255, 255]);
    expect(px(8, 8)).toEqual([9, 9, 9, 255]);
    expect(() => imageGrid([])).toThrow(/at least one tile/);
  });
  it('images in a fixed range, channel tiles and filter tiles', () => {
    const t = { data: Float32Array.of(0, 0.5, 1, 2), shape: [1, 2, 2, 1] };
    expect(Array.from(imageInRange(t, 'NHWC', 0, 0, 1).data.filter((_, i) => i % 4 === 0))).toEqual([
      0, 128, 255, 255,
    ]);
    const maps = { data: Float32Array.of(0, 1, 2, 4, -1, 0, 0, 0), shape: [1, 2, 2, 2] };
    const tiles = channelTiles(maps, 0, getColormap('gray'));
    expect(tiles).toHaveLength(2);
    // Pixel 2 holds 2 of a shared maximum 4: mid-grey.
    expect(Math.abs(tiles[0].data[8] - 128)).toBeLessThan(8);
    expect(channelTiles(maps, 0, getColormap('gray'), 'per-channel')[1].data[0]).toBe(0);
    const rgb = filterTiles({ data: new Float32Array(2 * 3 * 4).fill(0.5), shape: [2, 3, 2, 2] });
    expect(rgb).toHaveLength(2);
    expect(filterTiles({ data: new Float32Array(2 * 4 * 4), shape: [2, 4, 2, 2] })).toHaveLength(8);
  });
  it('the report shows galleries after the items, with captions, escaped', () => {
    const { html, assets } = buildReport(
      {
        model: { name: 'm' },
        methods: [],
        items: [],
        galleries: [
          {
            title: 'Class <visualisations>',
            description: 'what the model wants',
            rows: [{ label: 'seed 0', images: [{ image: solid(2, 2, [1, 2, 3]), caption: 'circle' }] }],
          },
        ],
      },
      { embed: false },
    );
    expect(html).toContain('<h2>Class &lt;visualisations&gt;</h2>');
    expect(html).toContain('<figcaption>circle</figcaption>');
    expect(html).toContain('data-kind="gallery"');
    expect(assets.map((a) => a.file)).toEqual(['gallery-1-class-visualisations-1-1.png']);
  });
});
