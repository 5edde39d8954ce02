import { join } from 'node:path';
import {
  type Attribution,
  checkCapabilities,
  checkScoreKind,
  defaultBatchSize,
  findLayer,
  mergeOptions,
  resolveTarget,
  type ScoreKind,
  XlensError,
} from '@xlens/core';
import { nodeFileReader } from '@xlens/core/node';
import { getColormap, normalizeModes } from '@xlens/viz';
import { choiceFlag, intFlag, numbersFlag, type ParsedArgs, UsageError } from './args.js';
import { resolveMaskers } from './masker.js';
import { type MethodRequest, parseMethodSpecs } from './method-spec.js';
import { checkOutDir, parseFormats, writeOutputs } from './outputs.js';
import { ProgressBar, type ProgressStream } from './progress.js';
import { createRegistry, defaultMethodIds } from './registry.js';
import { buildReportSpec, type MethodFailure, type MethodRun, warmMilliseconds } from './report-spec.js';
import { outputNotes, resultsJson } from './results-json.js';
import { openSession, type Session } from './session.js';
import { formatMs, printable, textTable } from './table.js';
import { parseTarget } from './targets.js';
import { versions } from './versions.js';

/** Where a command writes. */
export interface Io {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: ProgressStream;
}

type Values = ParsedArgs['values'];

/** Check per-method options, capabilities and layers before any compute; drop default methods the model cannot run. */
function prepareMethods(
  requests: readonly MethodRequest[],
  session: Session,
  values: Values,
  explicit: boolean,
  io: Io,
): MethodRequest[] {
  const { model } = session;
  const layer = values.layer;
  if (layer !== undefined) findLayer(model, layer);
  const kept: MethodRequest[] = [];
  for (const r of requests) {
    try {
      checkCapabilities(r.explainer.id, r.explainer.requires, model);
    } catch (e) {
      if (explicit) throw e;
      if (!values.quiet) io.stderr.write(`xlens: skipping ${r.explainer.id}: ${(e as Error).message}\n`);
      continue;
    }
    const options = { ...r.options };
    if (layer !== undefined && 'layer' in r.explainer.options && options.layer === undefined)
      options.layer = layer;
    const merged = mergeOptions(r.explainer.id, r.explainer.defaults, r.explainer.options, options);
    try {
      r.explainer.validate?.(merged, model, session.batch.tensor);
    } catch (e) {
      // A default method whose settings do not fit the model (an occlusion window larger than
      // its images, say) is skipped like one whose capabilities are missing.
      if (explicit) throw e;
      if (!values.quiet) io.stderr.write(`xlens: skipping ${r.explainer.id}: ${(e as Error).message}\n`);
      continue;
    }
    kept.push({ ...r, options });
  }
  if (layer !== undefined && !kept.some((r) => 'layer' in r.explainer.options)) {
    throw new UsageError(
      `--layer is for methods with a layer option (CAM); none of ${kept.map((r) => r.key).join(', ')} has one`,
    );
  }
  if (kept.length === 0)
    throw new UsageError(
      `${model.info.name} can run none of the default methods; name some with --method (see xlens methods)`,
    );
  return kept;
}

/** Whether an error is the user's interrupt (Ctrl-C), which stops the whole run. */
function interrupted(error: unknown): boolean {
  return error instanceof XlensError && error.code === 'aborted';
}

/** An error as one printable line, with its code. */
function errorText(error: unknown): string {
  const message = printable((error instanceof Error ? error.message : String(error)).split('\n')[0].trim());
  return error instanceof XlensError ? `[${error.code}] ${message}` : message;
}

/**
 * `xlens explain`: run methods on images or an .npy batch, write a report, print a summary.
 * Returns the exit code: 0 when every method ran, 1 when some failed (their errors are in the
 * report and `results.json`, the other methods' maps are written).
 */
export async function explainCommand(values: Values, io: Io): Promise<number> {
  // Everything that needs no model is checked first, so typos fail fast.
  const registry = createRegistry();
  const explicit = values.method !== undefined && values.method.length > 0;
  const requests = parseMethodSpecs(
    explicit ? values.method! : defaultMethodIds.filter((spec) => registry.has(spec.split(':')[0])),
    registry,
  );
  for (const r of requests)
    mergeOptions(r.explainer.id, r.explainer.defaults, r.explainer.options, r.options);
  const formats = parseFormats(values.format);
  const normalize = choiceFlag('normalize', values.normalize, ['auto', ...normalizeModes]) ?? 'auto';
  if (values.colormap !== undefined) getColormap(values.colormap);
  const clip = numbersFlag('clip', values.clip)?.[0];
  if (clip !== undefined && !(clip > 0 && clip <= 100))
    throw new UsageError(`--clip ${clip} is invalid; expected a percentile in (0, 100]`);
  const batchSize = intFlag('batch-size', values['batch-size'], 1);
  const seed = intFlag('seed', values.seed, 0) ?? 0;
  const score: ScoreKind = values.score === undefined ? 'logit' : checkScoreKind(values.score);
  const outDir = values.out ?? 'xlens-report';
  await checkOutDir(outDir);

  const session = await openSession(values, io);
  try {
    const { model, batch } = session;
    const methods = prepareMethods(
      await resolveMaskers(requests, session.source),
      session,
      values,
      explicit,
      io,
    );
    const n = batch.tensor.shape[0];
    const spec = parseTarget(values.target, model.info.labels);
    const targets = Array.from(resolveTarget(spec, model.info, n, score, session.logits).classes!);

    const bar = new ProgressBar(io.stderr, methods.length, values.quiet);
    const runs: MethodRun[] = [];
    const failures: MethodFailure[] = [];
    for (const [i, m] of methods.entries()) {
      bar.start(i, m.key);
      const setupBefore = session.setupMilliseconds();
      let attribution: Attribution;
      try {
        attribution = await m.explainer.explain(model, batch.tensor, targets, {
          ...m.options,
          batchSize,
          seed,
          score,
          registry,
          files: nodeFileReader,
          onProgress: (p) => bar.update(p.done, p.total),
        });
      } catch (error) {
        // One failing method must not throw away the others' finished maps: record it, go on,
        // and exit non-zero at the end.
        if (interrupted(error)) throw error;
        bar.fail();
        failures.push({ key: m.key, explainer: m.explainer, error: errorText(error) });
        continue;
      }
      bar.finish(attribution.timing.milliseconds);
      runs.push({
        key: m.key,
        explainer: m.explainer,
        attribution,
        setupMilliseconds: session.setupMilliseconds() - setupBefore,
      });
    }
    bar.end();

    const settings: Record<string, string | number | boolean> = {
      seed,
      'batch size': batchSize ?? `measured (from ${defaultBatchSize})`,
      score,
      target: values.target ?? 'top1',
      normalise: normalize,
    };
    if (clip !== undefined) settings.clip = clip;
    if (values['shared-scale']) settings['shared scale'] = true;
    const drawOptions = {
      normalize,
      clip,
      shared: values['shared-scale'] ?? false,
      colormap: values.colormap,
    };
    const reportSpec =
      formats.has('html') || formats.has('png')
        ? buildReportSpec(
            runs,
            failures,
            {
              info: model.info,
              backend: session.backend,
              names: batch.names,
              images: batch.images,
              predictions: session.predictions,
              targets,
              forwardMs: session.forwardMs,
              settings: {
                ...settings,
                ...outputNotes(session),
                ...Object.fromEntries(
                  Object.entries(session.preprocessing).map(([k, v]) => [
                    k.startsWith('input ') ? k : `input ${k}`,
                    Array.isArray(v) ? v.join(', ') : (v as string | number | boolean),
                  ]),
                ),
                versions: Object.entries(versions())
                  .map(([k, v]) => `${k.replace('@xlens/', '')} ${v}`)
                  .join(', '),
              },
            },
            drawOptions,
          )
        : { model: { name: model.info.name }, methods: [], items: [] };
    const json = resultsJson(session, runs, failures, targets, settings, formats.has('npy'));
    await writeOutputs(
      outDir,
      formats,
      reportSpec,
      runs.map((r) => ({ key: r.key, attribution: r.attribution })),
      json,
    );

    // Warm time ÷ forward: the one-time set-up (ONNX graph and session builds) is its own column,
    // since it dominates one-shot runs and says nothing about the method's cost.
    const rows = [
      [`forward (${n} item${n === 1 ? '' : 's'})`, formatMs(session.forwardMs), '–', '1.0×'],
      ...runs.map((r) => [
        r.key,
        formatMs(r.attribution.timing.milliseconds),
        r.setupMilliseconds > 0 ? formatMs(r.setupMilliseconds) : '–',
        `${(warmMilliseconds(r) / session.forwardMs).toFixed(1)}×`,
      ]),
      ...failures.map((f) => [f.key, 'failed', '–', '–']),
    ];
    io.stdout.write(
      `${textTable(['method', 'time', 'of which set-up', 'warm ÷ forward'], rows, [1, 2, 3])}\n`,
    );
    const where = formats.has('html') ? join(outDir, 'index.html') : outDir;
    io.stdout.write(`${formats.has('html') ? 'report' : 'output'}: ${where}\n`);
    for (const f of failures) io.stderr.write(`xlens: ${f.key} failed: ${f.error}\n`);
    return failures.length === 0 ? 0 : 1;
  } finally {
    await session.model.dispose();
  }
}
