import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createImage } from './image.js';
import { writePng, writeReport } from './node.js';
import { decodePng } from './png.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('node writers', () => {
  it('writes a report folder whose HTML links PNGs that exist and decode', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xlens-viz-'));
    dirs.push(dir);
    const image = createImage(4, 4);
    image.data.fill(200);
    const written = await writeReport(join(dir, 'r'), {
      model: { name: 'toy' },
      methods: [{ id: 'saliency', title: 'Saliency', family: 'gradients' }],
      items: [
        {
          name: 'a',
          image,
          predictions: [{ index: 0, probability: 1 }],
          maps: [
            {
              method: 'saliency',
              overlay: image,
              raw: image,
              scale: { mode: 'abs', low: 0, high: 1, diverging: false },
              colormap: 'ember',
              options: {},
              milliseconds: 1,
            },
          ],
        },
      ],
    });
    const files = (await readdir(join(dir, 'r'))).sort();
    expect(files).toEqual([
      '01-a-input.png',
      '01-a-saliency-overlay.png',
      '01-a-saliency-raw.png',
      'colorbar-ember.png',
      'index.html',
    ]);
    expect(written).toHaveLength(5);
    const html = await readFile(join(dir, 'r', 'index.html'), 'utf8');
    for (const f of files.filter((f) => f.endsWith('.png'))) {
      expect(html).toContain(`src="${f}"`);
      expect(decodePng(await readFile(join(dir, 'r', f))).width).toBeGreaterThan(0);
    }
  });

  it('writePng writes a decodable file; embed writes a single file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xlens-viz-'));
    dirs.push(dir);
    const image = createImage(3, 2);
    image.data.fill(9);
    await writePng(join(dir, 'x.png'), image);
    expect(decodePng(await readFile(join(dir, 'x.png')))).toEqual(image);
    await writeReport(join(dir, 'e'), { model: { name: 't' }, methods: [], items: [] }, { embed: true });
    expect(await readdir(join(dir, 'e'))).toEqual(['index.html']);
  });
});
