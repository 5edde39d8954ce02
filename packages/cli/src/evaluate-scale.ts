import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import {
  type AnyMetric,
  type Evaluation,
  mergeOptions,
  OptionError,
  type OptionSpec,
  parseOptionValue,
} from '@xlens/core';
import type {
  DatasetRef,
  MethodSpecJson,
  MetricSpecJson,
  RunnerBackend,
  RunProgressEvent,
} from '@xlens/runner';
import { isZooModel } from '@xlens/zoo';
import { choiceFlag, intFlag, type ParsedArgs, UsageError } from './args.js';
import { type EvaluationNote, type EvaluationRun, evaluationHtml, summaryText } from './evaluate-report.js';
import type { Io } from './explain-command.js';
import { parseMethodSpecs, splitPairs } from './method-spec.js';
import { createMetricRegistry, defaultMetricIds } from './metric-registry.js';
import { directionArrow } from './metrics-command.js';
import { createRegistry } from './registry.js';
import { textTable } from './table.js';
import { versions } from './versions.js';

type Values = ParsedArgs['values'];

/** Zoo data sets, which `--dataset` names without a path. */
const zooSets = ['shapes', 'shapes-shortcut', 'mnist'] as const;

/**
 * Whether `xlens evaluate` runs on the job engine (`@xlens/runner`): when asked for threads, a
 * queue, a database or a unit size, or when `--dataset` is a folder or array shards.
 */
export function usesRunner(values: Values): boolean {
  return (
    values.threads !== undefined ||
    values.queue !== undefined ||
    values.db !== undefined ||
    values['unit-size'] !== undefined ||
    (values.dataset !== undefined && !(zooSets as readonly string[]).includes(values.dataset))
  );
}

/** `name` or `name:key=value,…` as a serialisable metric spec, checked against the metric's options. */
function metricSpec(text: string, metric: AnyMetric): MetricSpecJson {
  const colon = text.indexOf(':');
  const options: Record<string, unknown> = {};
  if (colon >= 0 && text.slice(colon + 1).trim() !== '') {
    const specs = metric.options as Record<string, OptionSpec>;
    for (const [key, value] of splitPairs(text.slice(colon + 1), metric.id)) {
      if (!(key in specs))
        throw new OptionError(
          'unknown-option',
          `${metric.id} has no option ${JSON.stringify(key)}; its options are ${Object.keys(specs).join(', ') || '(none)'}`,
        );
      options[key] = parseOptionValue(metric.id, key, value, specs[key]);
    }
  }
  mergeOptions(metric.id, metric.defaults, metric.options, options);
  return { id: metric.id, options };
}

const shardExtensions = new Set(['.npy', '.npz']);

/** `--dataset`: a zoo name, a folder of images, a folder of shards, or a comma list of shard files. */
async function datasetRef(values: Values, count: number | undefined): Promise<DatasetRef> {
  const text = values.dataset;
  if (text === undefined)
    throw new UsageError(
      'the job engine evaluates a data set: give --dataset (a zoo name, a folder, or .npy/.npz shards)',
    );
  if ((zooSets as readonly string[]).includes(text)) {
    if (values.annotations !== undefined) throw new UsageError('--annotations is for a folder of images');
    return { kind: 'zoo', name: text as (typeof zooSets)[number], count: count ?? 12 };
  }
  if (count !== undefined)
    throw new UsageError('--count is for a zoo --dataset; a folder or shards are used whole');
  const paths = text.split(',').map((s) => resolve(s.trim()));
  if (paths.length === 1 && (await stat(paths[0]).catch(() => undefined))?.isDirectory()) {
    const shards = (await readdir(paths[0]))
      .filter((f) => shardExtensions.has(extname(f).toLowerCase()))
      .sort();
    if (shards.length > 0) {
      if (values.annotations !== undefined)
        throw new UsageError('--annotations is for images; shards carry labels and masks in their .npz');
      return { kind: 'arrays', files: shards.map((f) => join(paths[0], f)) };
    }
    return {
      kind: 'images',
      dir: paths[0],
      ...(values.annotations !== undefined ? { labels: resolve(values.annotations) } : {}),
    };
  }
  for (const p of paths)
    if (!shardExtensions.has(extname(p).toLowerCase()))
      throw new UsageError(`--dataset ${p} is neither a zoo name, a folder, nor a .npy/.npz shard`);
  return { kind: 'arrays', files: paths };
}

/** A progress line on stderr: redrawn on a terminal, every 10 s (and at the end) in a log. */
function progressWriter(io: Io, quiet: boolean, text: (p: RunProgressEvent) => string) {
  const tty = (io.stderr as { isTTY?: boolean }).isTTY === true;
  let last = 0;
  return {
    onProgress(p: RunProgressEvent): void {
      if (quiet) return;
      const now = Date.now();
      const final = p.done + p.lost >= p.total;
      if (tty) {
        if (final || now - last > 100) io.stderr.write(`\r\x1b[2K${text(p)}`);
      } else if (final || now - last > 10_000) io.stderr.write(`${text(p)}\n`);
      else return;
      last = now;
    },
    end(): void {
      if (!quiet && tty) io.stderr.write('\n');
    },
  };
}

/**
 * `xlens evaluate` on the job engine: the data set is cut into work units (items × method ×
 * metric), computed by worker threads here or by `xlens worker` processes on a Redis queue, and
 * stored in SQLite (`--db`, default `OUT/results.sqlite`); rerunning the command resumes. Writes
 * `scores.csv`, `scores.jsonl`, `summary.json` and `index.html`, all read from the database.
 */
export async function evaluateAtScale(values: Values, io: Io): Promise<number> {
  if (values.attribution !== undefined)
    throw new UsageError('--attribution is not for the job engine: give --method');
  if (values.image !== undefined || values.input !== undefined || values.masks !== undefined)
    throw new UsageError(
      'the job engine reads --dataset (a folder of images, or shards); drop --image/--input/--masks',
    );
  for (const flag of ['size', 'mean', 'std', 'bgr', 'layout', 'labels', 'format'] as const)
    if (values[flag] !== undefined)
      throw new UsageError(
        `--${flag} is not for the job engine: it reads images as pixel/255 at the model's size and writes every format`,
      );
  if (values.queue !== undefined && values.threads !== undefined)
    throw new UsageError(
      '--threads is for a run on this machine; with --queue, give each xlens worker --threads',
    );
  if (values.score !== undefined && !['logit', 'softmax', 'log-softmax', 'sigmoid'].includes(values.score))
    throw new UsageError(
      `--score ${JSON.stringify(values.score)} is invalid; use logit, softmax, log-softmax or sigmoid`,
    );
  if (values.target !== undefined && values.target !== 'top1' && values.target !== 'label')
    throw new UsageError("with the job engine, --target is top1 (default) or label (the data set's label)");
  const registry = createRegistry();
  const metrics = createMetricRegistry();
  if (!values.method?.length)
    throw new UsageError('name the methods to evaluate: --method SPEC (repeatable)');
  const methods: MethodSpecJson[] = parseMethodSpecs(values.method, registry).map((m) => {
    mergeOptions(m.explainer.id, m.explainer.defaults, m.explainer.options, m.options);
    return { key: m.key, id: m.explainer.id, options: m.options };
  });
  const count = intFlag('count', values.count, 1);
  const dataset = await datasetRef(values, count);
  const hasTruth =
    (dataset.kind === 'zoo' && dataset.name !== 'mnist') ||
    (dataset.kind === 'images' && dataset.labels !== undefined);
  const explicit = values.metric !== undefined && values.metric.length > 0;
  const metricSpecs = (explicit ? values.metric! : defaultMetricIds(metrics))
    .map((t) => ({ text: t, metric: metrics.get((t.includes(':') ? t.slice(0, t.indexOf(':')) : t).trim()) }))
    // Defaults the data cannot feed are left out; a metric named explicitly fails loudly instead.
    .filter(
      ({ metric }) =>
        explicit ||
        ((hasTruth || !metric.needs.includes('ground-truth')) &&
          (methods.length > 1 || !metric.needs.includes('reference'))),
    )
    .map(({ text, metric }) => metricSpec(text, metric));
  if (metricSpecs.length === 0) throw new UsageError('no metric can run on this data; see xlens metrics');
  const threads = intFlag('threads', values.threads, 1);
  const unitSize = intFlag('unit-size', values['unit-size'], 1) ?? 50;
  const seed = intFlag('seed', values.seed, 0) ?? 0;
  const batchSize = intFlag('batch-size', values['batch-size'], 1);
  const backend = choiceFlag<RunnerBackend>('backend', values.backend, ['tfjs-wasm', 'tfjs-cpu', 'onnx']);
  const modelRef = values.model ?? (dataset.kind === 'zoo' ? dataset.name : undefined);
  if (modelRef === undefined) throw new UsageError('give --model for a data set that is not a zoo set');
  const outDir = values.out ?? 'xlens-eval';
  await mkdir(outDir, { recursive: true });
  const dbPath = values.db ?? join(outDir, 'results.sqlite');

  const runner = await import('@xlens/runner');
  const plan = await runner.makePlan({
    model: { ref: isZooModel(modelRef) ? modelRef : resolve(modelRef), ...(backend ? { backend } : {}) },
    dataset,
    methods,
    metrics: metricSpecs,
    seed,
    ...(batchSize !== undefined ? { batchSize } : {}),
    ...(values.score !== undefined ? { score: values.score as 'logit' } : {}),
    target: values.target === 'label' ? 'label' : 'top1',
    unitSize,
  });
  const store = runner.ResultStore.open(dbPath);
  try {
    const bar = progressWriter(io, values.quiet === true, (p) => runner.progressText(p));
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    let summary: Awaited<ReturnType<typeof runner.runEmbedded>>;
    try {
      summary = values.queue
        ? await runner.runOnQueue(plan, store, {
            url: values.queue,
            signal: controller.signal,
            onProgress: bar.onProgress,
          })
        : await runner.runEmbedded(plan, store, {
            threads,
            signal: controller.signal,
            onProgress: bar.onProgress,
          });
    } finally {
      process.removeListener('SIGINT', stop);
      bar.end();
    }
    const run = summary.run;
    await writeFile(join(outDir, 'scores.csv'), runner.scoresCsv(store.scores(run)));
    await writeFile(join(outDir, 'scores.jsonl'), runner.scoresJsonl(store.scores(run)));
    const summaries = store.summaries(run);
    const notes = store.notes(run);
    await writeFile(
      join(outDir, 'summary.json'),
      `${JSON.stringify({ run, plan, summaries, notes, progress: store.progress(run) }, null, 2)}\n`,
    );
    // The HTML report, from the database: one Evaluation per method × metric.
    const rows = [...store.scores(run)];
    const names: string[] = [];
    const targets: number[] = [];
    for (const r of rows) {
      names[r.item] ??= r.name;
      if (r.target !== null) targets[r.item] ??= r.target;
    }
    const runs: EvaluationRun[] = summaries.map((s) => {
      const metric = metrics.get(s.metric);
      const mine = rows.filter((r) => r.method === s.method && r.metric === s.metric);
      const evaluation: Evaluation = {
        metric: metric.id,
        title: metric.title,
        category: metric.category,
        direction: metric.direction,
        range: metric.range,
        scores: mine.map((r) => r.score ?? Number.NaN),
        summary: s.summary,
        extras: {},
        targets: null,
        score: plan.score ?? null,
        options: plan.metrics.find((m) => m.id === s.metric)?.options ?? {},
        timing: { milliseconds: 0 },
        warnings: [
          ...new Set([
            ...notes.filter((n) => n.method === s.method && n.metric === s.metric).flatMap((n) => n.warnings),
            ...mine.filter((r) => r.error !== null).map((r) => `${r.name}: ${r.error}`),
          ]),
        ],
      };
      return { method: s.method, evaluation };
    });
    const failed: EvaluationNote[] = notes
      .filter((n) => n.error !== null)
      .map((n) => ({
        method: n.method,
        metric: n.metric,
        reason: `items ${n.start}..${n.end - 1}: ${n.error}`,
      }));
    await writeFile(
      join(outDir, 'index.html'),
      evaluationHtml({
        model: { name: plan.model.ref, backend: plan.model.backend ?? 'tfjs-wasm', source: plan.model.ref },
        items: names,
        targets: names.map((_, i) => targets[i] ?? -1),
        settings: {
          seed,
          'unit size': unitSize,
          target: plan.target,
          run,
          engine: values.queue ? `queue ${values.queue}` : `${threads ?? 'all'} threads`,
        },
        versions: versions(),
        methods: methods.map((m) => m.key),
        runs,
        skipped: [],
        failed,
      }),
    );
    const table = runs.map((r) => [
      r.method,
      r.evaluation.metric,
      directionArrow(r.evaluation.direction),
      summaryText(r.evaluation),
      String(r.evaluation.summary.count),
    ]);
    io.stdout.write(`${textTable(['method', 'metric', 'better', 'mean ± 95% CI', 'items'], table, [4])}\n`);
    io.stdout.write(
      `units: ${summary.units} (${summary.resumed} from an earlier run, ${summary.computed} computed, ${summary.unfinished.length} unfinished, ${store.progress(run).retried} retried, ${summary.duplicates} duplicate results ignored); database ${dbPath}; report ${join(outDir, 'index.html')}\n`,
    );
    const itemErrors = rows.filter((r) => r.error !== null);
    for (const e of itemErrors.slice(0, 10))
      io.stderr.write(`xlens: ${e.method} · ${e.metric} · ${e.name}: ${e.error}\n`);
    if (itemErrors.length > 10)
      io.stderr.write(`xlens: … ${itemErrors.length - 10} more item errors in scores.csv\n`);
    for (const u of summary.unfinished.slice(0, 10))
      io.stderr.write(`xlens: unit ${u.key} unfinished: ${u.reason} (rerun the command to retry)\n`);
    return summary.unfinished.length === 0 && failed.length === 0 ? 0 : 1;
  } finally {
    store.close();
  }
}
