import { describe, expect, it } from 'vitest';
import { classLegend } from './class-map.js';
import { createImage } from './image.js';
import { decodePng } from './png.js';
import { buildReport, formatNumber, type ReportSpec } from './report.js';

const img = (w: number, h: number, v: number) => {
  const i = createImage(w, h);
  i.data.fill(v);
  return i;
};
const methods = ['saliency', 'grad-cam', 'clear'];

function spec(): ReportSpec {
  const items = ['circle <b>', 'square'].map((name, i) => ({
    name,
    image: img(8, 8, 40 + i),
    predictions: [
      { index: 1, label: 'circle', probability: 0.9 },
      { index: 0, label: 'square', probability: 0.1 },
    ],
    target: { index: 1, label: 'circle' },
    maps: methods.map((method, m) => ({
      method,
      overlay: img(8, 8, 100 + m),
      raw: img(8, 8, 150 + m),
      ...(method === 'clear'
        ? { legend: classLegend([0, 1], ['square', 'circle']) }
        : {
            scale: { mode: 'abs' as const, low: 0, high: 0.25, diverging: false },
            colormap: m === 0 ? ('ember' as const) : ('blue-red' as const),
          }),
      options: { steps: 32, baseline: 'zero', weights: [1, 2] },
      milliseconds: 12.5 + m,
      batchItems: 2,
      ratio: 3 + m,
      warnings: m === 1 ? ['coarse <layer>'] : [],
    })),
  }));
  return {
    model: { name: 'shapes', backend: 'tfjs-wasm', inputShape: [64, 64, 3], layout: 'NHWC', numClasses: 6 },
    methods: methods.map((id) => ({
      id,
      title: id.toUpperCase(),
      family: 'test',
      milliseconds: 10,
      ratio: 2.5,
      citation: 'A & B 2020',
    })),
    items,
    settings: { seed: 0, normalize: 'abs' },
    forwardMilliseconds: 4,
  };
}

const srcs = (html: string): string[] => [...html.matchAll(/<img [^>]*src="([^"]*)"/g)].map((m) => m[1]);

describe('buildReport', () => {
  it('embeds every image as a data URI and needs no network', () => {
    const { html, assets } = buildReport(spec());
    const all = srcs(html);
    // 2 inputs + 2 items × 3 methods × (overlay + raw) + a colour bar on the 4 non-legend cards
    expect(all).toHaveLength(2 + 2 * 3 * 2 + 4);
    // assets: the same minus repeated colour bars (ember and blue-red once each)
    expect(assets).toHaveLength(2 + 2 * 3 * 2 + 2);
    for (const s of all) {
      expect(s.startsWith('data:image/png;base64,')).toBe(true);
      const png = Uint8Array.from(atob(s.slice(22)), (c) => c.charCodeAt(0));
      expect(decodePng(png).width).toBeGreaterThan(0);
    }
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script/i);
  });

  it('shows every method for every item, with options, timing and scale', () => {
    const { html } = buildReport(spec());
    for (const m of methods) {
      expect(html.match(new RegExp(`<div class="card" data-method="${m}"`, 'g'))).toHaveLength(2);
      expect(html.match(new RegExp(`data-kind="overlay" data-method="${m}"`, 'g'))).toHaveLength(2);
      expect(html.match(new RegExp(`data-kind="raw" data-method="${m}"`, 'g'))).toHaveLength(2);
      expect(html).toContain(`<tr data-method="${m}">`);
    }
    expect(html).toContain('13 ms for 2 items · 3.0× a forward');
    expect(html).toContain('<td>steps</td><td>32</td>');
    expect(html).toContain('<td>weights</td><td>[1, 2]</td>');
    expect(html).toContain('<span>0.25</span>');
    expect(html).toContain('90.0%');
    expect(html.match(/data-kind="legend"/g)).toHaveLength(2);
    expect(html).toContain('></i>square</span><span><i');
  });

  it('lists a failed method with its error instead of a time', () => {
    const s = spec();
    const html = buildReport({
      ...s,
      methods: [
        ...s.methods,
        { id: 'lrp', title: 'LRP', family: 'relevance', error: 'unsupported-rule: <Conv> x' },
      ],
    }).html;
    const row = /<tr data-method="lrp" class="failed">.*?<\/tr>/s.exec(html)?.[0] ?? '';
    expect(row).toContain('failed');
    expect(row).toContain('unsupported-rule: &lt;Conv&gt; x');
  });
  it('escapes text from the outside world', () => {
    const { html } = buildReport(spec());
    expect(html).toContain('circle &lt;b&gt;');
    expect(html).toContain('coarse &lt;layer&gt;');
    expect(html).not.toContain('circle <b>');
  });

  it('links unique PNG file names when not embedding', () => {
    const { html, assets } = buildReport(spec(), { embed: false });
    const all = srcs(html);
    const files = assets.map((a) => a.file);
    expect(new Set(files).size).toBe(files.length);
    expect(new Set(all)).toEqual(new Set(files));
    for (const f of files) expect(f).toMatch(/^[a-z0-9-]+\.png$/);
    expect(files).toContain('01-circle-b-input.png');
    expect(files).toContain('02-square-grad-cam-overlay.png');
  });

  it('formats numbers compactly', () => {
    expect(formatNumber(0.000012345)).toBe('1.23e-5');
    expect(formatNumber(123.456)).toBe('123');
    expect(formatNumber(-0.5)).toBe('-0.5');
    expect(formatNumber(0)).toBe('0');
  });
});

describe('clipped colour bars', () => {
  it('mark the saturating ends', () => {
    const s = spec();
    const first = s.items[0].maps[0];
    const clipped = {
      ...s,
      items: [
        {
          ...s.items[0],
          maps: [
            { ...first, scale: { mode: 'signed' as const, low: -2, high: 2, diverging: true, clip: 99 } },
          ],
        },
      ],
    };
    const { html } = buildReport(clipped);
    expect(html).toContain('<span>≤ -2</span><span>0</span><span>≥ 2</span>');
    expect(html).toContain('signed scale clipped at p99');
  });
});
