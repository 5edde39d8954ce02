import type { LegendEntry } from './class-map.js';
import { type ColormapName, getColormap } from './colormaps.js';
import { colorBar, type RgbaImage } from './image.js';
import type { Scale } from './normalize.js';
import { pngDataUri } from './png.js';

/** One class prediction shown next to an input. */
export interface ReportPrediction {
  readonly index: number;
  readonly label?: string;
  /** Probability in [0, 1] (softmax of logits, or the model's own probabilities). */
  readonly probability: number;
}

/** One method's map of one input. */
export interface ReportMap {
  /** Method id (registry name). */
  readonly method: string;
  /** The map over the image. */
  readonly overlay: RgbaImage;
  /** The map alone. */
  readonly raw: RgbaImage;
  /** The scale behind the colours, for the colour bar's labels. Omit with `legend`. */
  readonly scale?: Scale;
  /** Colormap of the colour bar. */
  readonly colormap?: ColormapName;
  /** Class legend (CLEAR-style maps) shown instead of a colour bar. */
  readonly legend?: readonly LegendEntry[];
  /** Options the map was computed with (defaults merged). */
  readonly options: Readonly<Record<string, unknown>>;
  /** Wall time of the call that produced this map. */
  readonly milliseconds: number;
  /** Number of items that call explained (its time covers all of them). Default 1. */
  readonly batchItems?: number;
  /** `milliseconds` ÷ one forward pass of the same batch. */
  readonly ratio?: number;
  readonly warnings?: readonly string[];
}

/** One input with its predictions and maps. */
export interface ReportItem {
  readonly name: string;
  readonly image: RgbaImage;
  readonly predictions: readonly ReportPrediction[];
  /** The class the maps explain. */
  readonly target?: { readonly index: number; readonly label?: string };
  readonly maps: readonly ReportMap[];
}

/** A method as listed in the report's summary. */
export interface ReportMethod {
  readonly id: string;
  readonly title: string;
  readonly family: string;
  readonly citation?: string;
  readonly description?: string;
  /** Time of the method over the whole batch. */
  readonly milliseconds?: number;
  /** Part of `milliseconds` spent on one-time set-up (ONNX graph and session builds). */
  readonly setupMilliseconds?: number;
  /** The warm time (without set-up) ÷ one forward pass of the same batch. */
  readonly ratio?: number;
  /** Set when the method failed: its one-line error, shown in place of its maps. */
  readonly error?: string;
}

/** Everything a report shows. */
export interface ReportSpec {
  readonly title?: string;
  readonly model: {
    readonly name: string;
    readonly backend?: string;
    readonly inputShape?: readonly number[];
    readonly layout?: string;
    readonly numClasses?: number;
  };
  readonly methods: readonly ReportMethod[];
  readonly items: readonly ReportItem[];
  /** Run settings worth recording (seed, batch size, normalisation, …). */
  readonly settings?: Readonly<Record<string, string | number | boolean>>;
  /** One forward pass of the batch, the unit of the ratios. */
  readonly forwardMilliseconds?: number;
  /** ISO time stamp shown in the footer. */
  readonly generatedAt?: string;
  /** Image sections after the items (`@xlens/synthesis` visualisations). */
  readonly galleries?: readonly ReportGallery[];
}

/** A section of images without an input to explain: synthesised images, filters, activation grids, patches. */
export interface ReportGallery {
  readonly title: string;
  readonly description?: string;
  /** Rows of captioned images (a row per objective, per layer, …). */
  readonly rows: readonly {
    readonly label?: string;
    readonly images: readonly { readonly image: RgbaImage; readonly caption?: string }[];
  }[];
}

/** An image the report refers to, by file name. */
export interface ReportAsset {
  readonly file: string;
  readonly image: RgbaImage;
}

/** A built report: the HTML and the images it uses. */
export interface BuiltReport {
  readonly html: string;
  /** Every image, with the file name the HTML uses when not embedded. */
  readonly assets: readonly ReportAsset[];
}

/** Options of `buildReport`. */
export interface BuildReportOptions {
  /**
   * true (default): images inlined as `data:` URIs, one self-contained file. false: `<img src>` are
   * file names of `assets`, to be written next to the HTML.
   */
  readonly embed?: boolean;
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const slug = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40) || 'x';

/** A short human number: 3 significant digits, exponent form for very small or large values. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2);
  return String(Number(v.toPrecision(3)));
}

const formatMs = (ms: number): string =>
  ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;

const optionText = (v: unknown): string => {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatNumber(v);
  if (Array.isArray(v) || ArrayBuffer.isView(v)) {
    const arr = Array.from(v as ArrayLike<number>);
    return `[${arr
      .slice(0, 8)
      .map((x) => optionText(x))
      .join(', ')}${arr.length > 8 ? ', …' : ''}]`;
  }
  return JSON.stringify(v) ?? String(v);
};

const css = `
.gallery{margin:24px 0}.gallery .grow{margin:10px 0}.gallery .gfig{display:flex;flex-wrap:wrap;gap:10px}.gallery figure{margin:0;text-align:center}.gallery figcaption{font-size:12px;color:var(--muted)}.gallery img{max-width:100%}
:root{--fg:#1d1f24;--muted:#5d6470;--line:#dde1e6;--bg:#f7f8fa;--card:#fff;--accent:#2f5fb3}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
header,main,footer{max-width:1400px;margin:0 auto;padding:16px 24px}h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin:0 0 8px}h3{font-size:14px;margin:0 0 6px}
table{border-collapse:collapse}th,td{padding:3px 10px;border-bottom:1px solid var(--line);text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}th{white-space:nowrap}
.meta{display:flex;gap:32px;flex-wrap:wrap;align-items:flex-start}.muted{color:var(--muted)}.small{font-size:12px}
section.item{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px;margin:16px 0;display:flex;gap:20px;align-items:flex-start}
.input{flex:0 0 220px}.input img{width:200px;height:200px}img.px{image-rendering:pixelated;object-fit:contain;background:#000}
.pred{display:grid;grid-template-columns:1fr 48px;gap:2px 8px;margin-top:8px;font-size:13px}.bar{height:6px;background:var(--accent);border-radius:3px}
.pred .target{font-weight:600}.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:12px;flex:1}
.error{color:#b3261e;font-weight:600}.card{border:1px solid var(--line);border-radius:6px;padding:10px}.pair{display:flex;gap:6px}.pair figure{margin:0;flex:1}.pair img{width:100%;aspect-ratio:1}
figcaption{font-size:11px;color:var(--muted);text-align:center}.cbar img{width:100%;height:10px;display:block;margin-top:6px;image-rendering:auto}
.cbar .ticks{display:flex;justify-content:space-between;font-size:11px;color:var(--muted)}.legend{display:flex;flex-wrap:wrap;gap:4px 10px;margin-top:6px;font-size:12px}
.sw{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-2px;margin-right:4px;border:1px solid #0003}
details{margin-top:6px;font-size:12px}details table td{padding:1px 6px}.warn{color:#a15c00;font-size:12px}
`;

/**
 * Build a self-contained HTML report: per input the image, top predictions with probabilities
 * and a grid with every method's overlay and raw map, its colour bar (or class legend), options
 * and timing; a summary of the methods on top. No scripts, no network: images are `data:` URIs,
 * or files listed in `assets` when `embed` is false. Text is HTML-escaped.
 */
export function buildReport(spec: ReportSpec, options: BuildReportOptions = {}): BuiltReport {
  const embed = options.embed ?? true;
  const assets: ReportAsset[] = [];
  const src = (file: string, image: RgbaImage): string => {
    assets.push({ file, image });
    return embed ? pngDataUri(image) : file;
  };
  const bars = new Map<string, string>();
  const barSrc = (name: ColormapName): string => {
    let s = bars.get(name);
    if (s === undefined) {
      s = src(`colorbar-${name}.png`, colorBar(getColormap(name)));
      bars.set(name, s);
    }
    return s;
  };
  const titles = new Map(spec.methods.map((m) => [m.id, m.title]));
  const img = (s: string, alt: string, kind: string, attrs = ''): string =>
    `<img class="${kind === 'colorbar' ? 'bar-img' : 'px'}" src="${escapeHtml(s)}" alt="${escapeHtml(alt)}" data-kind="${kind}"${attrs}>`;

  const scaleBlock = (m: ReportMap): string => {
    if (m.legend) {
      const entries = m.legend.map(
        (e) =>
          `<span><i class="sw" style="background:rgb(${e.color.join(',')})"></i>${escapeHtml(e.label)}</span>`,
      );
      return `<div class="legend" data-kind="legend">${entries.join('')}</div>`;
    }
    if (!m.scale || !m.colormap) return '';
    const s = m.scale;
    // A clipped scale saturates beyond its ends; say so on the labels.
    const over = s.clip !== undefined ? '≥ ' : '';
    const under = s.clip !== undefined ? '≤ ' : '';
    const ticks = s.diverging
      ? [under + formatNumber(s.low), '0', over + formatNumber(s.high)]
      : [formatNumber(s.low), s.mode === 'minmax' ? 'value' : '|value|', over + formatNumber(s.high)];
    return `<div class="cbar">${img(barSrc(m.colormap), `${m.colormap} colour bar`, 'colorbar')}<div class="ticks">${ticks.map((t) => `<span>${escapeHtml(t)}</span>`).join('')}</div></div>`;
  };

  const card = (item: ReportItem, itemIndex: number, m: ReportMap): string => {
    const base = `${String(itemIndex + 1).padStart(2, '0')}-${slug(item.name)}-${slug(m.method)}`;
    const title = titles.get(m.method) ?? m.method;
    const per = m.batchItems && m.batchItems > 1 ? ` for ${m.batchItems} items` : '';
    const ratio = m.ratio !== undefined ? ` · ${m.ratio.toFixed(1)}× a forward` : '';
    const opts = Object.entries(m.options)
      .map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(optionText(v))}</td></tr>`)
      .join('');
    const warnings = (m.warnings ?? []).map((w) => `<div class="warn">⚠ ${escapeHtml(w)}</div>`).join('');
    const a = ` data-method="${escapeHtml(m.method)}"`;
    return `<div class="card" data-method="${escapeHtml(m.method)}">
<h3>${escapeHtml(title)} <span class="muted small">${escapeHtml(m.method)}</span></h3>
<div class="pair"><figure>${img(src(`${base}-overlay.png`, m.overlay), `${title} over ${item.name}`, 'overlay', a)}<figcaption>overlay</figcaption></figure>
<figure>${img(src(`${base}-raw.png`, m.raw), `${title} map of ${item.name}`, 'raw', a)}<figcaption>map</figcaption></figure></div>
${scaleBlock(m)}<div class="small muted">${escapeHtml(formatMs(m.milliseconds) + per + ratio)}${m.scale ? ` · ${escapeHtml(m.scale.mode)} scale${m.scale.clip !== undefined ? ` clipped at p${m.scale.clip}` : ''}` : ''}</div>
${warnings}<details><summary>options</summary><table>${opts || '<tr><td class="muted">none</td></tr>'}</table></details></div>`;
  };

  const itemSection = (item: ReportItem, i: number): string => {
    const preds = item.predictions
      .map((p) => {
        const label = p.label ?? `class ${p.index}`;
        const cls = item.target?.index === p.index ? ' class="target"' : '';
        return `<div${cls}>${escapeHtml(label)} <span class="muted small">#${p.index}</span><div class="bar" style="width:${(100 * Math.min(Math.max(p.probability, 0), 1)).toFixed(1)}%"></div></div><div class="num"${cls}>${(100 * p.probability).toFixed(1)}%</div>`;
      })
      .join('');
    const target = item.target
      ? `<div class="small">explaining: <b>${escapeHtml(item.target.label ?? `class ${item.target.index}`)}</b> <span class="muted">#${item.target.index}</span></div>`
      : '';
    const input = img(
      src(`${String(i + 1).padStart(2, '0')}-${slug(item.name)}-input.png`, item.image),
      item.name,
      'input',
    );
    return `<section class="item" data-item="${i}">
<div class="input"><h2>${escapeHtml(item.name)}</h2>${input}${target}<div class="pred">${preds}</div></div>
<div class="grid">${item.maps.map((m) => card(item, i, m)).join('\n')}</div></section>`;
  };

  const settings = Object.entries(spec.settings ?? {})
    .map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(String(v))}</td></tr>`)
    .join('');
  const fwd = spec.forwardMilliseconds;
  const summary = spec.methods
    .map((m) => {
      const cite = m.citation ? `<div class="small muted">${escapeHtml(m.citation)}</div>` : '';
      if (m.error !== undefined)
        return `<tr data-method="${escapeHtml(m.id)}" class="failed"><td>${escapeHtml(m.title)}<div class="small muted">${escapeHtml(m.id)}</div></td><td>${escapeHtml(m.family)}</td><td class="num" colspan="2">failed</td><td><div class="error">${escapeHtml(m.error)}</div>${cite}</td></tr>`;
      return `<tr data-method="${escapeHtml(m.id)}"><td>${escapeHtml(m.title)}<div class="small muted">${escapeHtml(m.id)}</div></td><td>${escapeHtml(m.family)}</td><td class="num">${m.milliseconds !== undefined ? formatMs(m.milliseconds) : '–'}${m.setupMilliseconds ? `<div class="small muted">incl. ${formatMs(m.setupMilliseconds)} set-up</div>` : ''}</td><td class="num">${m.ratio !== undefined ? `${m.ratio.toFixed(1)}×` : '–'}</td><td>${cite}${m.description ? `<div class="small">${escapeHtml(m.description)}</div>` : ''}</td></tr>`;
    })
    .join('\n');
  const model = spec.model;
  const modelRows = [
    ['model', model.name],
    ['backend', model.backend],
    [
      'input',
      model.inputShape
        ? `[${model.inputShape.join(', ')}]${model.layout ? ` ${model.layout}` : ''}`
        : undefined,
    ],
    ['classes', model.numClasses !== undefined ? String(model.numClasses) : undefined],
    ['one forward', fwd !== undefined ? formatMs(fwd) : undefined],
  ]
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<tr><td>${k}</td><td>${escapeHtml(v!)}</td></tr>`)
    .join('');
  const title = spec.title ?? `xlens report — ${model.name}`;
  const gallery = (g: ReportGallery, gi: number): string => {
    const rows = g.rows
      .map((row, ri) => {
        const figures = row.images
          .map((im, ii) => {
            const file = `gallery-${gi + 1}-${slug(g.title)}-${ri + 1}-${ii + 1}.png`;
            const alt = im.caption ?? `${g.title} ${ri + 1}.${ii + 1}`;
            return `<figure>${img(src(file, im.image), alt, 'gallery')}${im.caption ? `<figcaption>${escapeHtml(im.caption)}</figcaption>` : ''}</figure>`;
          })
          .join('');
        return `<div class="grow">${row.label ? `<h3>${escapeHtml(row.label)}</h3>` : ''}<div class="gfig">${figures}</div></div>`;
      })
      .join('\n');
    return `<section class="gallery" data-gallery="${gi}"><h2>${escapeHtml(g.title)}</h2>${g.description ? `<p class="small muted">${escapeHtml(g.description)}</p>` : ''}${rows}</section>`;
  };
  const body = [...spec.items.map(itemSection), ...(spec.galleries ?? []).map(gallery)].join('\n');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${css}</style></head>
<body><header><h1>${escapeHtml(title)}</h1>
<div class="meta"><table>${modelRows}</table>${settings ? `<table>${settings}</table>` : ''}</div></header>
<main><h2>Methods</h2><table class="summary"><thead><tr><th>method</th><th>family</th><th>time</th><th>warm ÷ forward</th><th>about</th></tr></thead><tbody>
${summary}</tbody></table>
${body}</main>
<footer class="small muted">Raw attributions are normalised for display only (see each colour bar); ratios are warm wall time (one-time set-up such as ONNX session builds excluded) ÷ one forward pass of the same batch.${spec.generatedAt ? ` Generated ${escapeHtml(spec.generatedAt)}.` : ''}</footer>
</body></html>
`;
  return { html, assets };
}
