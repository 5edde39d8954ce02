import { join } from 'node:path';
import type { AnyExplainer, Model } from '@xlens/core';
import { sanityChecks } from '@xlens/eval';
import { zooModel } from '@xlens/zoo';
import { choiceFlag, intFlag, type ParsedArgs, UsageError } from './args.js';
import type { Io } from './explain-command.js';
import { resolveMaskers } from './masker.js';
import { checkOutDir, writeOutputs } from './outputs.js';
import { createRegistry } from './registry.js';
import { reviewHtml } from './review-report.js';
import { reviewSuiteSettings, runReviewSuite } from './review-suite.js';
import { textTable } from './table.js';

/** Suites `xlens evaluate --suite` runs. */
export const suites = ['review'] as const;

/**
 * `xlens evaluate --suite review [--quick]`: the review's Tables 1 and 3 measured on the zoo's
 * shapes models, explanation manipulation, and model-randomisation curves, written as
 * `index.html` (next to the published values, with findings) and `results.json`.
 */
export async function reviewCommand(values: ParsedArgs['values'], io: Io): Promise<number> {
  choiceFlag('suite', values.suite, suites);
  for (const flag of [
    'model',
    'method',
    'metric',
    'dataset',
    'attribution',
    'image',
    'input',
    'masks',
  ] as const)
    if (values[flag] !== undefined)
      throw new UsageError(`--suite review runs its own models, methods and data; drop --${flag}`);
  const seed = intFlag('seed', values.seed, 0) ?? 0;
  const batchSize = intFlag('batch-size', values['batch-size'], 1) ?? 16;
  const outDir = values.out ?? 'xlens-review';
  await checkOutDir(outDir);
  const settings = reviewSuiteSettings(values.quick === true, seed, batchSize);
  const { decodeOnnxModel, encodeOnnxModel, fromOnnx, manipulateGradCam } = await import(
    '@xlens/backend-onnx'
  );
  const shapes = zooModel('shapes');
  const registry = createRegistry();
  // real-time-saliency runs with the zoo's masker trained for shapes (when both exist).
  const extra: Record<string, Record<string, unknown>> = {};
  if (registry.list().some((e) => e.id === 'real-time-saliency') && !settings.quick) {
    const [masker] = await resolveMaskers(
      [
        {
          key: 'real-time-saliency',
          explainer: registry.get('real-time-saliency') as AnyExplainer,
          options: {},
        },
      ],
      'zoo:shapes',
    );
    extra['real-time-saliency'] = masker.options;
  }
  let shown = -1;
  const result = await runReviewSuite(settings, {
    registry,
    checks: sanityChecks,
    methodOptions: extra,
    loadOnnx: (bytes, name): Promise<Model> =>
      fromOnnx(bytes, { name, labels: shapes.labels, inputRange: shapes.meta.inputRange }),
    manipulate: (bytes, explanation) =>
      encodeOnnxModel(
        manipulateGradCam(decodeOnnxModel(bytes), {
          layer: shapes.meta.camLayer,
          grid: [8, 8],
          explanation: explanation as Parameters<typeof manipulateGradCam>[1]['explanation'],
        }),
      ),
    onStep: (label, step, total) => {
      if (values.quiet || step === shown) return;
      shown = step;
      io.stderr.write(`[${Math.min(step + 1, total)}/${total}] ${label}\n`);
    },
  });
  await writeOutputs(
    outDir,
    new Set(['json'] as const),
    { model: { name: 'shapes' }, methods: [], items: [] },
    [],
    result,
    [{ name: 'index.html', content: reviewHtml(result) }],
  );
  const rows = result.table1.map((r) => [
    r.method,
    r.published === undefined ? '–' : r.published.toFixed(1),
    Number.isFinite(r.error) ? r.error.toFixed(1) : '–',
  ]);
  io.stdout.write(`${textTable(['method', 'published loc. error %', 'measured %'], rows, [1, 2])}\n`);
  io.stdout.write(`${result.findings.length} finding(s) · report: ${join(outDir, 'index.html')}\n`);
  return 0;
}
