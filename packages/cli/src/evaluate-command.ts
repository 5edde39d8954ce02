import { join } from 'node:path';
import {
  type AnyMetric,
  checkCapabilities,
  checkScoreKind,
  defaultBatchSize,
  type EvaluateRequest,
  type MetricRegistry,
  mergeOptions,
  OptionError,
  type OptionSpec,
  parseOptionValue,
  resolveTarget,
  type ScoreKind,
  type Tensor,
  XlensError,
} from '@xlens/core';
import { nodeFileReader, readNpyFile } from '@xlens/core/node';
import { isZooModel, sampleImages } from '@xlens/zoo';
import { choiceFlag, intFlag, type ParsedArgs, UsageError } from './args.js';
import {
  type EvaluationNote,
  type EvaluationReport,
  type EvaluationRun,
  evaluationHtml,
  evaluationJson,
  scoresCsv,
  summaryText,
} from './evaluate-report.js';
import { evaluateAtScale, usesRunner } from './evaluate-scale.js';
import type { Io } from './explain-command.js';
import { zooSampleBatch } from './inputs.js';
import { type MethodRequest, parseMethodSpecs, splitPairs } from './method-spec.js';
import { createMetricRegistry, defaultMetricIds } from './metric-registry.js';
import { directionArrow } from './metrics-command.js';
import { checkOutDir, writeOutputs } from './outputs.js';
import { ProgressBar } from './progress.js';
import { createRegistry } from './registry.js';
import { reviewCommand } from './review-command.js';
import { openSession } from './session.js';
import { textTable } from './table.js';
import { parseTarget } from './targets.js';
import { versions } from './versions.js';

type Values = ParsedArgs['values'];

/** Output formats of `xlens evaluate --format`. */
const evaluateFormats = ['json', 'csv', 'html'] as const;

/** Data sets `--dataset` accepts: the zoo's, whose models share their names. */
const datasets = ['shapes', 'shapes-shortcut', 'mnist'] as const;

/** One `--metric` after parsing. */
interface MetricRequest {
  readonly metric: AnyMetric;
  readonly options: Record<string, unknown>;
}

/** Parse `name` or `name:key=value,…` against the metric registry and the metric's option specs. */
function parseMetricSpec(text: string, registry: MetricRegistry): MetricRequest {
  const colon = text.indexOf(':');
  const metric = registry.get((colon < 0 ? text : text.slice(0, colon)).trim());
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
  return { metric, options };
}

function parseEvaluateFormats(text: string | undefined): Set<string> {
  const parts = (text ?? evaluateFormats.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const p of parts)
    if (!evaluateFormats.includes(p as (typeof evaluateFormats)[number]))
      throw new UsageError(
        `--format ${JSON.stringify(p)} is unknown; use a comma list of ${evaluateFormats.join(', ')}`,
      );
  if (parts.length === 0)
    throw new UsageError(`--format is empty; use a comma list of ${evaluateFormats.join(', ')}`);
  return new Set(parts);
}

/** What is evaluated: a method's maps (computed once) and the method itself, or the `--attribution` maps. */
interface Source {
  readonly key: string;
  readonly method?: MethodRequest;
  maps?: Tensor;
}

/** Why a metric cannot run on a source, or null. */
function skipReason(metric: AnyMetric, source: Source, index: number, hasTruth: boolean): string | null {
  if (metric.needs.includes('explainer') && !source.method) return 'it re-runs an explainer: give --method';
  if (metric.needs.includes('ground-truth') && !hasTruth)
    return 'no ground truth: use --dataset shapes, the shapes zoo samples, or --masks';
  if (metric.needs.includes('reference') && index === 0)
    return 'compares each method with the first one: give two or more --method';
  return null;
}

/**
 * `xlens evaluate`: score maps of explainers (or precomputed maps) with evaluation metrics, and
 * write per-item scores, curves and a summary to `results.json`, `scores.csv` and `index.html`.
 * Returns 0 when every metric ran, 1 when some failed.
 */
export async function evaluateCommand(values: Values, io: Io): Promise<number> {
  if (values.suite !== undefined) return reviewCommand(values, io);
  if (values.quick) throw new UsageError('--quick is for --suite review');
  if (usesRunner(values)) return evaluateAtScale(values, io);
  // Everything that needs no model is checked first, so typos fail fast.
  const registry = createRegistry();
  const metricRegistry = createMetricRegistry();
  const methods = values.method?.length ? parseMethodSpecs(values.method, registry) : [];
  if (methods.length > 0 && values.attribution !== undefined)
    throw new UsageError('give --method or --attribution, not both');
  if (methods.length === 0 && values.attribution === undefined)
    throw new UsageError('name what to evaluate: --method SPEC (repeatable) or --attribution maps.npy');
  for (const m of methods) mergeOptions(m.explainer.id, m.explainer.defaults, m.explainer.options, m.options);
  const explicitMetrics = values.metric !== undefined && values.metric.length > 0;
  const metrics = (explicitMetrics ? values.metric! : defaultMetricIds(metricRegistry)).map((t) =>
    parseMetricSpec(t, metricRegistry),
  );
  const formats = parseEvaluateFormats(values.format);
  const batchSize = intFlag('batch-size', values['batch-size'], 1);
  const seed = intFlag('seed', values.seed, 0) ?? 0;
  const score: ScoreKind | undefined = values.score === undefined ? undefined : checkScoreKind(values.score);
  const dataset = choiceFlag('dataset', values.dataset, datasets);
  const count = intFlag('count', values.count, 1);
  if (count !== undefined && !dataset) throw new UsageError('--count is for --dataset');
  if (dataset && (values.image !== undefined || values.input !== undefined))
    throw new UsageError('give --dataset, --image or --input, not several');
  if (dataset && values.masks !== undefined)
    throw new UsageError('--dataset brings its own masks; drop --masks');
  const outDir = values.out ?? 'xlens-eval';
  await checkOutDir(outDir);

  const session = await openSession({ ...values, model: values.model ?? dataset }, io);
  try {
    const { model } = session;
    const ref = values.model ?? dataset;
    const batch = dataset ? zooSampleBatch(dataset, model, count ?? 12) : session.batch;
    const n = batch.tensor.shape[0];
    const logits = dataset ? await model.forward(batch.tensor) : session.logits;
    // Ground truth: the data set's, the zoo samples' (shapes models), or --masks.
    let masks: Tensor | undefined;
    if (dataset) masks = sampleImages(dataset, n).masks;
    else if (values.masks !== undefined) masks = readNpyFile(values.masks);
    else if (values.image === undefined && values.input === undefined && ref !== undefined && isZooModel(ref))
      masks = sampleImages(ref, n).masks;
    const targetSpec = parseTarget(values.target, model.info.labels);
    const targets = Array.from(resolveTarget(targetSpec, model.info, n, score ?? 'logit', logits).classes!);
    for (const m of methods) checkCapabilities(m.explainer.id, m.explainer.requires, model);
    const sources: Source[] = methods.length
      ? methods.map((m) => ({ key: m.key, method: m }))
      : [{ key: 'attribution', maps: readNpyFile(values.attribution as string) }];

    const plan: { source: Source; index: number; request: MetricRequest }[] = [];
    const skipped: EvaluationNote[] = [];
    for (const [index, source] of sources.entries())
      for (const request of metrics) {
        const reason = skipReason(request.metric, source, index, masks !== undefined);
        if (reason) skipped.push({ method: source.key, metric: request.metric.id, reason });
        else plan.push({ source, index, request });
      }
    if (explicitMetrics)
      for (const { metric } of metrics)
        if (!plan.some((p) => p.request.metric === metric))
          throw new UsageError(
            `${metric.id} cannot run: ${skipped.find((s) => s.metric === metric.id)?.reason}`,
          );
    if (plan.length === 0) throw new UsageError('no metric can run on this data; see xlens metrics');

    const run = { batchSize, seed, registry, files: nodeFileReader, ...(score ? { score } : {}) };
    // A source's maps are needed by its map metrics, and the first source's by every similarity metric.
    const needsMaps = (s: Source): boolean =>
      plan.some(
        (p) =>
          (p.source === s && p.request.metric.needs.includes('maps')) ||
          (s === sources[0] && p.request.metric.needs.includes('reference')),
      );
    const bar = new ProgressBar(io.stderr, plan.length + sources.filter(needsMaps).length, values.quiet);
    let step = 0;
    const failed: EvaluationNote[] = [];
    for (const s of sources)
      if (s.method && needsMaps(s)) {
        bar.start(step++, `${s.key} (maps)`);
        const a = await s.method.explainer.explain(model, batch.tensor, targets, {
          ...s.method.options,
          ...run,
          score: score ?? 'logit',
          onProgress: (p) => bar.update(p.done, p.total),
        });
        bar.finish(a.timing.milliseconds);
        s.maps = a.map;
      }
    const runs: EvaluationRun[] = [];
    for (const { source, request } of plan) {
      bar.start(step++, `${source.key} · ${request.metric.id}`);
      const data: EvaluateRequest = {
        model,
        input: batch.tensor,
        target: targets,
        maps: source.maps,
        reference: sources[0].maps,
        masks,
        explainer: source.method?.explainer,
        explainerOptions: source.method?.options,
      };
      try {
        const evaluation = await request.metric.evaluate(data, {
          ...request.options,
          ...run,
          onProgress: (p) => bar.update(p.done, p.total),
        });
        bar.finish(evaluation.timing.milliseconds);
        runs.push({ method: source.key, evaluation });
      } catch (error) {
        // One failing metric must not throw away the others: record it and exit non-zero at the end.
        if (error instanceof XlensError && error.code === 'aborted') throw error;
        bar.fail();
        const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
        failed.push({
          method: source.key,
          metric: request.metric.id,
          reason: error instanceof XlensError ? `[${error.code}] ${message}` : message,
        });
      }
    }
    bar.end();

    const report: EvaluationReport = {
      model: { name: model.info.name, backend: session.backend, source: session.source },
      items: batch.names,
      targets,
      settings: {
        seed,
        'batch size': batchSize ?? `measured (from ${defaultBatchSize})`,
        score: score ?? 'per metric',
        target: values.target ?? 'top1',
        ...(dataset ? { dataset, count: n } : {}),
      },
      versions: versions(),
      methods: sources.map((s) => s.key),
      runs,
      skipped,
      failed,
    };
    const extra = [
      ...(formats.has('csv') ? [{ name: 'scores.csv', content: scoresCsv(report) }] : []),
      ...(formats.has('html') ? [{ name: 'index.html', content: evaluationHtml(report) }] : []),
    ];
    const json = new Set(formats.has('json') ? (['json'] as const) : []);
    await writeOutputs(
      outDir,
      json,
      { model: { name: model.info.name }, methods: [], items: [] },
      [],
      evaluationJson(report),
      extra,
    );

    const rows = runs.map((r) => [
      r.method,
      r.evaluation.metric,
      directionArrow(r.evaluation.direction),
      summaryText(r.evaluation),
      String(r.evaluation.summary.count),
    ]);
    io.stdout.write(`${textTable(['method', 'metric', 'better', 'mean ± 95% CI', 'items'], rows, [4])}\n`);
    io.stdout.write(
      `${formats.has('html') ? 'report' : 'output'}: ${formats.has('html') ? join(outDir, 'index.html') : outDir}\n`,
    );
    for (const f of failed) io.stderr.write(`xlens: ${f.method} · ${f.metric} failed: ${f.reason}\n`);
    return failed.length === 0 ? 0 : 1;
  } finally {
    await session.model.dispose();
  }
}
