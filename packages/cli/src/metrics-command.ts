import type { AnyMetric, MetricDirection, OptionSpec } from '@xlens/core';
import type { ParsedArgs } from './args.js';
import type { Io } from './explain-command.js';
import { createMetricRegistry } from './metric-registry.js';
import { textTable } from './table.js';

/** The arrow of a direction: ↑ higher is better, ↓ lower is better, · neither. */
export function directionArrow(d: MetricDirection): string {
  return d === 'higher' ? '↑' : d === 'lower' ? '↓' : '·';
}

/** A range as text, with ∞ for unbounded ends. */
export function rangeText(range: readonly [number, number]): string {
  const end = (v: number): string =>
    v === Number.POSITIVE_INFINITY
      ? '∞'
      : v === Number.NEGATIVE_INFINITY
        ? '−∞'
        : String(Number(v.toPrecision(4)));
  return `[${end(range[0])}, ${end(range[1])}]`;
}

const valueText = (v: unknown): string =>
  v === '' ? "''" : typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));

function describe(m: AnyMetric): Record<string, unknown> {
  return {
    id: m.id,
    category: m.category,
    title: m.title,
    citation: m.citation,
    description: m.description,
    direction: m.direction,
    // JSON has no infinity: unbounded ends are null.
    range: m.range.map((v) => (Number.isFinite(v) ? v : null)),
    needs: m.needs,
    requires: m.requires,
    curve: m.curve ?? null,
    score: m.score ?? 'logit',
    stochastic: m.stochastic ?? false,
    options: Object.fromEntries(
      Object.entries(m.options as Record<string, OptionSpec>).map(([k, s]) => [
        k,
        { ...s, default: (m.defaults as Record<string, unknown>)[k] },
      ]),
    ),
  };
}

/** `xlens metrics`: every registered metric with its direction, range, needs and options. */
export function metricsCommand(values: ParsedArgs['values'], io: Io): void {
  const metrics = createMetricRegistry().list();
  if (values.json) {
    io.stdout.write(`${JSON.stringify(metrics.map(describe), null, 2)}\n`);
    return;
  }
  const summary = textTable(
    ['metric', 'category', 'better', 'range', 'needs'],
    metrics.map((m) => [
      m.id,
      m.category,
      directionArrow(m.direction),
      rangeText(m.range),
      m.needs.join(', '),
    ]),
  );
  const blocks = metrics.map((m) => {
    const rows = Object.entries(m.options as Record<string, OptionSpec>).map(([k, s]) => [
      k,
      s.type === 'enum' ? s.values.join('|') : s.type,
      valueText((m.defaults as Record<string, unknown>)[k]),
      s.doc,
    ]);
    const options =
      rows.length > 0
        ? textTable(['option', 'type', 'default', 'meaning'], rows).replace(/^/gm, '    ')
        : '    (no options)';
    const better =
      m.direction === 'neutral'
        ? 'no better side'
        : `${m.direction} is better ${directionArrow(m.direction)}`;
    return `${m.id}  [${m.category}] ${m.title}\n    ${m.description}\n    ${better}; range ${rangeText(m.range)} (default options)${m.score ? `; reads the ${m.score} score` : ''}\n    ${m.citation}\n${options}`;
  });
  io.stdout.write(
    `${summary}\n\n${blocks.join('\n\n')}\n\n↑ higher is better, ↓ lower is better, · neither (similarity).\nUse: xlens evaluate --metric name:key=value,key=value\n`,
  );
}
