import type { Evaluation, MetricCurve } from '@xlens/core';
import { directionArrow, rangeText } from './metrics-command.js';

/** One metric's result for one method (or for the `--attribution` maps). */
export interface EvaluationRun {
  readonly method: string;
  readonly evaluation: Evaluation;
}

/** A (method, metric) pair that did not run, and why. */
export interface EvaluationNote {
  readonly method: string;
  readonly metric: string;
  readonly reason: string;
}

/** What the three outputs describe. */
export interface EvaluationReport {
  readonly model: { readonly name: string; readonly backend: string; readonly source: string };
  readonly items: readonly string[];
  readonly targets: readonly number[];
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  readonly versions: Readonly<Record<string, string>>;
  readonly methods: readonly string[];
  readonly runs: readonly EvaluationRun[];
  readonly skipped: readonly EvaluationNote[];
  readonly failed: readonly EvaluationNote[];
}

/** `mean ± half-width` of a run's summary, or `–` when no item has a score. */
export function summaryText(e: Evaluation): string {
  const { mean, ci95, count } = e.summary;
  if (count === 0) return '–';
  const digits = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(3));
  return `${digits(mean)} ± ${digits(ci95)}`;
}

/** The content of `results.json`: settings, and per method and metric the per-item scores, curves and summary. */
export function evaluationJson(r: EvaluationReport): unknown {
  return {
    model: r.model,
    settings: r.settings,
    versions: r.versions,
    items: r.items.map((name, i) => ({ name, target: r.targets[i] })),
    results: r.runs.map(({ method, evaluation: e }) => ({
      method,
      metric: e.metric,
      title: e.title,
      category: e.category,
      direction: e.direction,
      range: e.range.map((v) => (Number.isFinite(v) ? v : null)),
      summary: e.summary,
      scores: e.scores,
      curves: e.curves,
      curveAxes: e.curveAxes,
      extras: e.extras,
      options: e.options,
      milliseconds: e.timing.milliseconds,
      warnings: e.warnings,
    })),
    skipped: r.skipped,
    failed: r.failed,
  };
}

const csvCell = (v: string | number): string => {
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** `scores.csv`: one row per method, metric and item. */
export function scoresCsv(r: EvaluationReport): string {
  const rows = [['method', 'metric', 'direction', 'item', 'name', 'target', 'score']];
  for (const { method, evaluation: e } of r.runs)
    e.scores.forEach((s, i) => {
      rows.push([method, e.metric, e.direction, String(i), r.items[i], String(r.targets[i]), csvCell(s)]);
    });
  return `${rows.map((row) => row.map((c) => csvCell(c)).join(',')).join('\n')}\n`;
}

const escapeHtml = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

const palette = ['#1b6ca8', '#d1495b', '#2e933c', '#edae49', '#7b4397', '#00798c', '#8d6a9f', '#6b4226'];

/** The mean curve over items when they share x values, else each item's curve. */
function methodCurves(curves: readonly MetricCurve[]): MetricCurve[] {
  const x = curves[0].x;
  const shared = curves.every((c) => c.x.length === x.length && c.x.every((v, k) => v === x[k]));
  if (!shared) return [...curves];
  const y = x.map((_, k) => {
    const finite = curves.map((c) => c.y[k]).filter(Number.isFinite);
    return finite.length > 0 ? finite.reduce((a, b) => a + b, 0) / finite.length : Number.NaN;
  });
  return [{ x, y }];
}

/** An SVG line chart of one metric's curves, one colour per method. */
function chart(
  title: string,
  axes: { x: string; y: string },
  series: { name: string; curves: MetricCurve[] }[],
): string {
  const width = 460;
  const height = 280;
  const pad = { left: 56, right: 12, top: 28, bottom: 44 };
  const points = series.flatMap((s) => s.curves.flatMap((c) => c.x.map((x, k) => [x, c.y[k]] as const)));
  const finite = points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (finite.length === 0) return '';
  let [x0, x1, y0, y1] = [
    Math.min(...finite.map((p) => p[0])),
    Math.max(...finite.map((p) => p[0])),
    Math.min(...finite.map((p) => p[1])),
    Math.max(...finite.map((p) => p[1])),
  ];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const sx = (x: number): number => pad.left + ((x - x0) / (x1 - x0)) * (width - pad.left - pad.right);
  const sy = (y: number): number =>
    height - pad.bottom - ((y - y0) / (y1 - y0)) * (height - pad.top - pad.bottom);
  const ticks = (lo: number, hi: number): number[] => [0, 0.25, 0.5, 0.75, 1].map((f) => lo + f * (hi - lo));
  const fmt = (v: number): string => String(Number(v.toPrecision(3)));
  const lines = series.flatMap((s, i) =>
    s.curves.map((c) => {
      const pts = c.x
        .map((x, k) => [x, c.y[k]] as const)
        .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
        .map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
        .join(' ');
      const thin = s.curves.length > 1 ? ' stroke-opacity="0.45" stroke-width="1"' : ' stroke-width="2"';
      return `<polyline fill="none" stroke="${palette[i % palette.length]}"${thin} points="${pts}"/>`;
    }),
  );
  const grid = [
    ...ticks(x0, x1).map(
      (t) =>
        `<line x1="${sx(t)}" x2="${sx(t)}" y1="${pad.top}" y2="${height - pad.bottom}" class="grid"/><text x="${sx(t)}" y="${height - pad.bottom + 14}" text-anchor="middle">${fmt(t)}</text>`,
    ),
    ...ticks(y0, y1).map(
      (t) =>
        `<line x1="${pad.left}" x2="${width - pad.right}" y1="${sy(t)}" y2="${sy(t)}" class="grid"/><text x="${pad.left - 6}" y="${sy(t) + 4}" text-anchor="end">${fmt(t)}</text>`,
    ),
  ];
  const legend = series
    .map(
      (s, i) => `<span><i style="background:${palette[i % palette.length]}"></i>${escapeHtml(s.name)}</span>`,
    )
    .join(' ');
  return `<figure><svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(title)}">
<text x="${width / 2}" y="16" text-anchor="middle" class="title">${escapeHtml(title)}</text>
${grid.join('\n')}
${lines.join('\n')}
<text x="${(pad.left + width - pad.right) / 2}" y="${height - 8}" text-anchor="middle">${escapeHtml(axes.x)}</text>
<text x="14" y="${(pad.top + height - pad.bottom) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(pad.top + height - pad.bottom) / 2})">${escapeHtml(axes.y)}</text>
</svg><figcaption class="legend">${legend}</figcaption></figure>`;
}

/** `index.html`: the summary table (mean ± 95% CI, direction arrow), the curves, per-item scores and notes. */
export function evaluationHtml(r: EvaluationReport): string {
  const metricIds = [...new Set(r.runs.map((x) => x.evaluation.metric))];
  const find = (method: string, metric: string): Evaluation | undefined =>
    r.runs.find((x) => x.method === method && x.evaluation.metric === metric)?.evaluation;
  const head = `<tr><th>metric</th><th>better</th><th>range</th>${r.methods.map((m) => `<th>${escapeHtml(m)}</th>`).join('')}</tr>`;
  const body = metricIds
    .map((id) => {
      const any = r.runs.find((x) => x.evaluation.metric === id)!.evaluation;
      const cells = r.methods.map((m) => {
        const e = find(m, id);
        return `<td>${e ? `${escapeHtml(summaryText(e))} <small>(n=${e.summary.count})</small>` : '–'}</td>`;
      });
      return `<tr><td title="${escapeHtml(any.title)}">${escapeHtml(id)} <small>${escapeHtml(any.category)}</small></td><td class="c">${directionArrow(any.direction)}</td><td>${escapeHtml(rangeText(any.range))}</td>${cells.join('')}</tr>`;
    })
    .join('\n');
  const charts = metricIds
    .map((id) => {
      const runs = r.runs.filter(
        (x) => x.evaluation.metric === id && x.evaluation.curves && x.evaluation.curves.length > 0,
      );
      if (runs.length === 0) return '';
      const e = runs[0].evaluation;
      return chart(
        `${id} ${directionArrow(e.direction)}`,
        e.curveAxes ?? { x: 'x', y: 'y' },
        runs.map((x) => ({ name: x.method, curves: methodCurves(x.evaluation.curves!) })),
      );
    })
    .join('\n');
  const perItem = r.runs
    .map(({ method, evaluation: e }) => {
      const cells = e.scores.map((s) => `<td>${Number.isFinite(s) ? s.toPrecision(4) : '–'}</td>`).join('');
      return `<tr><td>${escapeHtml(method)}</td><td>${escapeHtml(e.metric)}</td>${cells}</tr>`;
    })
    .join('\n');
  const notes = [
    ...r.skipped.map(
      (s) => `<li>${escapeHtml(s.method)} · ${escapeHtml(s.metric)}: skipped — ${escapeHtml(s.reason)}</li>`,
    ),
    ...r.failed.map(
      (s) =>
        `<li class="fail">${escapeHtml(s.method)} · ${escapeHtml(s.metric)}: failed — ${escapeHtml(s.reason)}</li>`,
    ),
    ...r.runs.flatMap(({ method, evaluation: e }) =>
      e.warnings.map((w) => `<li>${escapeHtml(method)} · ${escapeHtml(e.metric)}: ${escapeHtml(w)}</li>`),
    ),
  ];
  const settings = Object.entries(r.settings)
    .map(([k, v]) => `<span>${escapeHtml(k)}: <b>${escapeHtml(String(v))}</b></span>`)
    .join(' · ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>xlens evaluation — ${escapeHtml(r.model.name)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:12px 0}td,th{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left}
th{background:#f4f4f4}td.c{text-align:center;font-size:16px}small{color:#777}
figure{display:inline-block;margin:8px 16px 16px 0}svg text{font-size:11px;fill:#444}svg .title{font-size:13px;font-weight:600}
svg .grid{stroke:#eee}.legend span{margin-right:12px}.legend i{display:inline-block;width:12px;height:3px;margin:0 4px 3px 0;vertical-align:middle}
.fail{color:#b00}
</style></head><body>
<h1>Evaluation of ${escapeHtml(r.model.name)}</h1>
<p>${r.items.length} item${r.items.length === 1 ? '' : 's'} · backend ${escapeHtml(r.model.backend)} · ${settings}</p>
<h2>Summary</h2>
<p>Mean ± half-width of the 95% confidence interval (Student t) over the items with a score. ↑ higher is better, ↓ lower is better, · neither.</p>
<table>${head}\n${body}</table>
${charts ? `<h2>Curves</h2><p>Mean curve per method (each item's curve when their x values differ).</p>\n${charts}` : ''}
<h2>Per item</h2>
<details><summary>scores of every item</summary><table><tr><th>method</th><th>metric</th>${r.items.map((n) => `<th>${escapeHtml(n)}</th>`).join('')}</tr>
${perItem}</table></details>
${notes.length > 0 ? `<h2>Notes</h2><ul>${notes.join('\n')}</ul>` : ''}
</body></html>
`;
}
