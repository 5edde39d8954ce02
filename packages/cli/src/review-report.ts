import type { CheckCurve } from '@xlens/core';
import { publishedSource, publishedTable1, publishedTable3, table3Checks } from './review-published.js';
import type { ManipulationCell, ReviewSuiteResult, SanityCell } from './review-suite.js';

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const num = (v: number, digits = 3): string =>
  Number.isFinite(v) ? String(Number(v.toPrecision(digits))) : '–';

const palette = ['#1b6ca8', '#d1495b', '#2e933c', '#edae49', '#7b4397', '#00798c', '#8d6a9f', '#6b4226'];

/** A line chart over categorical steps (the randomised layers), one line per series, y in [lo, hi]. */
function stepChart(
  title: string,
  x: readonly string[],
  series: readonly { name: string; y: readonly number[] }[],
  range: [number, number] = [-1, 1],
): string {
  const width = 520;
  const height = 280;
  const pad = { left: 44, right: 12, top: 26, bottom: 60 };
  const [lo, hi] = range;
  const sx = (k: number): number =>
    pad.left + (x.length > 1 ? (k / (x.length - 1)) * (width - pad.left - pad.right) : 0);
  const sy = (v: number): number =>
    height - pad.bottom - ((v - lo) / (hi - lo)) * (height - pad.top - pad.bottom);
  const grid = [lo, (lo + hi) / 2, hi].map(
    (t) =>
      `<line x1="${pad.left}" x2="${width - pad.right}" y1="${sy(t)}" y2="${sy(t)}" class="grid"/><text x="${pad.left - 6}" y="${sy(t) + 4}" text-anchor="end">${t}</text>`,
  );
  const labels = x.map(
    (label, k) =>
      `<text x="${sx(k)}" y="${height - pad.bottom + 12}" text-anchor="end" transform="rotate(-40 ${sx(k)} ${height - pad.bottom + 12})">${esc(label)}</text>`,
  );
  const lines = series.map((s, i) => {
    const pts = s.y
      .map((v, k) => [k, v] as const)
      .filter(([, v]) => Number.isFinite(v))
      .map(([k, v]) => `${sx(k).toFixed(1)},${sy(Math.max(lo, Math.min(hi, v))).toFixed(1)}`)
      .join(' ');
    return `<polyline fill="none" stroke="${palette[i % palette.length]}" stroke-width="2" points="${pts}"/>`;
  });
  const legend = series
    .map((s, i) => `<span><i style="background:${palette[i % palette.length]}"></i>${esc(s.name)}</span>`)
    .join(' ');
  return `<figure class="curve"><svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(title)}">
<text x="${width / 2}" y="16" text-anchor="middle" class="title">${esc(title)}</text>
${grid.join('\n')}
${labels.join('\n')}
${lines.join('\n')}
</svg><figcaption class="legend">${legend}</figcaption></figure>`;
}

/** An 8×8 (or any square) grid of values in [0, 1] as a small inline SVG heat map. */
function gridSvg(values: readonly number[], label: string): string {
  const side = Math.round(Math.sqrt(values.length));
  const cell = 8;
  const top = Math.max(...values.map(Math.abs), 1e-12);
  const rects = values
    .map((v, p) => {
      const g = Math.round(255 * (1 - Math.abs(v) / top));
      return `<rect x="${(p % side) * cell}" y="${Math.floor(p / side) * cell}" width="${cell}" height="${cell}" fill="rgb(255,${g},${g})"/>`;
    })
    .join('');
  return `<figure class="forced"><svg viewBox="0 0 ${side * cell} ${side * cell}" width="${side * cell * 1.5}" height="${side * cell * 1.5}" role="img" aria-label="${esc(label)}">${rects}</svg><figcaption>${esc(label)}</figcaption></figure>`;
}

function verdictCell(c: SanityCell | undefined): string {
  if (!c) return '<td class="na">not run</td>';
  const rule = c.threshold
    ? `${c.threshold.statistic} ${num(c.score)} (${c.threshold.pass} ${c.threshold.value})`
    : esc(c.summary);
  return `<td class="v-${c.verdict}" title="${esc(c.summary)}"><b>${c.verdict}</b><br><small>${c.threshold ? esc(rule) : rule}</small></td>`;
}

function manipulationCell(c: ManipulationCell | undefined): string {
  if (!c) return '<td class="na">–</td>';
  const forced = Number.isFinite(c.forcedError) ? `; forced-error ${num(c.forcedError)}` : '';
  const label = c.verdict === 'fail' ? 'fooled' : c.verdict === 'pass' ? 'resists' : c.verdict;
  return `<td class="v-${c.verdict}" title="${esc(c.summary)}"><b>${label}</b><br><small>rel. diff ${num(c.relativeDifference)}${forced}</small></td>`;
}

/** The review-suite report: Tables 1 and 3 next to the published values, findings, manipulation, curves. */
export function reviewHtml(r: ReviewSuiteResult): string {
  const s = r.settings;
  // Table 1: the published rows first (with the method that implements them), then the other methods.
  const t1Rows = publishedTable1.map((p) => {
    const m = r.table1.find((x) => x.approach === p.approach);
    // Why a row has no measurement: the suite's skip note for its method, if any.
    const why = p.methods.length
      ? (r.skipped.find((x) => x.startsWith(`${p.methods[0]}:`)) ?? `${p.methods.join(' / ')}: not run`)
      : 'not in xlens';
    return `<tr><td>${esc(p.approach)}</td><td>${m ? esc(m.method) : `<small>${esc(why)}</small>`}</td><td class="n">${p.error.toFixed(1)}</td><td class="n">${m ? `${num(m.error, 3)} <small>± ${num(m.ci95, 2)}</small>` : '–'}</td><td class="n">${m ? num(m.iou, 2) : ''}</td><td class="n">${m ? num(m.boxArea, 2) : ''}</td><td class="n">${m ? m.items : ''}</td></tr>`;
  });
  const t1Extra = r.table1
    .filter((m) => m.approach === undefined)
    .map(
      (m) =>
        `<tr><td><small>not in Table 1</small></td><td>${esc(m.method)}</td><td class="n">–</td><td class="n">${num(m.error, 3)} <small>± ${num(m.ci95, 2)}</small></td><td class="n">${num(m.iou, 2)}</td><td class="n">${num(m.boxArea, 2)}</td><td class="n">${m.items}</td></tr>`,
    );
  // Table 3: per method, published | measured for each of the three tests, then extra checks.
  const t3Head = `<tr><th rowspan="2">approach</th><th rowspan="2">xlens method</th>${table3Checks.map((c) => `<th colspan="2">${esc(c)}</th>`).join('')}${r.extraChecks.map((c) => `<th rowspan="2">${esc(c)}<br><small>measured</small></th>`).join('')}</tr><tr>${table3Checks.map(() => '<th>published</th><th>measured</th>').join('')}</tr>`;
  const t3Rows = publishedTable3.map((p) => {
    const cell = (check: string) => r.table3.find((c) => c.method === p.method && c.check === check);
    const pub = table3Checks.map((c) => {
      const v = p.verdicts[c];
      const measured = cell(c);
      const disagree =
        (v === 'pass' || v === 'fail') &&
        measured &&
        (measured.verdict === 'pass' || measured.verdict === 'fail') &&
        measured.verdict !== v;
      return `<td class="pub${disagree ? ' disagree' : ''}">${esc(v)}</td>${verdictCell(measured)}`;
    });
    return `<tr><td>${esc(p.approach)}</td><td>${esc(p.method)}</td>${pub.join('')}${r.extraChecks.map((c) => verdictCell(cell(c))).join('')}</tr>`;
  });
  const thresholds = [
    ...new Map(r.table3.filter((c) => c.threshold).map((c) => [c.check, c.threshold!] as const)).entries(),
  ]
    .map(
      ([check, t]) =>
        `<li><b>${esc(check)}</b>: pass when ${esc(t.statistic)} is ${t.pass} ${t.value} — ${esc(t.rationale)}</li>`,
    )
    .join('\n');
  // Manipulation table.
  const kinds = [...new Set(r.manipulation.map((m) => m.kind))];
  const mMethods = [...new Set(r.manipulation.map((m) => m.method))];
  const mRows = mMethods.map(
    (method) =>
      `<tr><td>${esc(method)}</td>${kinds.map((k) => manipulationCell(r.manipulation.find((m) => m.method === method && m.kind === k))).join('')}</tr>`,
  );
  const forced = Object.entries(r.forced)
    .map(([k, v]) => gridSvg(v, k === 'trigger' ? 'backdoor trigger (6×6 input pixels)' : `forced: ${k}`))
    .join('');
  // Model-randomisation curves: one chart per measure and mode, a line per method.
  const curveIds = [...new Set(r.curves.flatMap((c) => c.curves.map((k) => k.id)))];
  const charts = curveIds
    .map((id) => {
      const series = r.curves.flatMap((c) => {
        const k: CheckCurve | undefined = c.curves.find((x) => x.id === id);
        return k ? [{ name: c.method, y: k.y, x: k.x }] : [];
      });
      if (series.length === 0) return '';
      return stepChart(id, series[0].x, series, [-1, 1]);
    })
    .join('\n');
  const findings = r.findings.map((f) => `<li>${esc(f)}</li>`).join('\n');
  const unjudged = r.unjudged.map((f) => `<li>${esc(f)}</li>`).join('\n');
  const skipped = r.skipped.map((f) => `<li>${esc(f)}</li>`).join('\n');
  const models = Object.entries(r.models)
    .map(([k, v]) => `<span>${esc(k)}: <b>${esc(v)}</b></span>`)
    .join(' · ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>xlens review suite${s.quick ? ' (quick)' : ''}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1300px}
table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.n{text-align:right}small{color:#666}
.v-pass{background:#e8f5e9}.v-fail{background:#fdecea}.v-undecided{background:#fff8e1}.v-error{background:#eee;color:#777}.na{color:#999}
td.pub{color:#444;font-style:italic}td.disagree{outline:2px solid #d1495b}
figure{display:inline-block;margin:8px 16px 16px 0;vertical-align:top}svg text{font-size:10px;fill:#444}svg .title{font-size:12px;font-weight:600}
svg .grid{stroke:#eee}.legend span{margin-right:10px;font-size:12px}.legend i{display:inline-block;width:12px;height:3px;margin:0 4px 3px 0;vertical-align:middle}
.forced figcaption{font-size:12px;text-align:center}
</style></head><body>
<h1>xlens review suite${s.quick ? ' <small>(quick)</small>' : ''}</h1>
<p>${models}<br>Table 1: ${s.localisationItems} shapes items${s.maskItems ? ` (mask methods: the first ${s.maskItems})` : ''} · checks: ${s.checkItems} items · seed ${s.seed} · batch size ${s.batchSize} · ${num(r.milliseconds / 1000, 3)} s</p>
<p>Published values: ${esc(publishedSource)}. They were measured on ImageNet (GoogLeNet for Table 1, VGG/Inception for Table 3); xlens measures the same protocols on its own shapes models, so the numbers are not expected to match — the <em>order</em> of methods and the verdicts are what can be compared.</p>

<h2 id="findings">Findings: where xlens disagrees with the review</h2>
<p>Published pass/fail verdicts the measurement contradicts, Table 1 methods whose rank moved by two or more places, and methods other than Grad-CAM that the manipulated models fool.</p>
${findings ? `<ul class="findings">${findings}</ul>` : '<p>No disagreement.</p>'}
${unjudged ? `<h3>Published verdicts that could not be judged here</h3><ul class="unjudged">${unjudged}</ul>` : ''}

<h2 id="table1">Table 1 — localisation error (%)</h2>
<p>95%-energy protocol: the smallest set of most relevant pixels holding 95% of the map's positive energy, its tightest box, correct when IoU with the ground-truth box &gt; 0.5; each item explained for its true class. ± is the 95% interval half-width; mean IoU and the box's share of the image show how far the boxes are from passing.</p>
<table><tr><th>approach (review)</th><th>xlens method</th><th>published (ImageNet)</th><th>measured (shapes)</th><th>mean IoU</th><th>box area</th><th>items</th></tr>
${[...t1Rows, ...t1Extra].join('\n')}</table>

<h2 id="table3">Table 3 — sanity checks</h2>
<p>Each measured verdict shows the statistic and the fixed threshold it was judged by (hover for the full summary). Outlined: a published pass/fail the measurement contradicts.</p>
<table>${t3Head}
${t3Rows.join('\n')}</table>
<ul>${thresholds}</ul>

<h2 id="manipulation">Explanation manipulation (Viering et al. 2019)</h2>
<p>The shapes model rebuilt so that its logits are unchanged (max |Δlogit| ≤ 1e-4) but Grad-CAM on conv4 shows a forced map: constant, a picture, an input-dependent random map, or the picture only when the backdoor trigger is in the image (<em>backdoor-clean</em>: the same model on images without the trigger). “fooled” = the method's map changed (relative difference of max-normalised maps ≥ 0.05); forced-error near 0 = the map <em>is</em> the forced one.</p>
${forced}
<table><tr><th>method</th>${kinds.map((k) => `<th>${esc(k)}</th>`).join('')}</tr>
${mRows.join('\n')}</table>

<h2 id="curves">Model-randomisation curves</h2>
<p>Similarity between the trained model's map and the map after randomising the layers from the top down (cascading) or one at a time (independent); mean over items.</p>
${charts || '<p>No curves.</p>'}

${skipped ? `<h2>Not run</h2><ul>${skipped}</ul>` : ''}
</body></html>
`;
}
