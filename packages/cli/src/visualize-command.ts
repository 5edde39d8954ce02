import { type Attribution, type Model, Registry, type Tensor } from '@xlens/core';
import {
  filterImages,
  formatObjective,
  type Objective,
  parseObjective,
  synthesisMethods,
  synthesisSnapshots,
} from '@xlens/synthesis';
import { filterTiles, imageGrid, imageInRange, type ReportGallery, type RgbaImage } from '@xlens/viz';
import { choiceFlag, intFlag, type ParsedArgs, UsageError } from './args.js';
import type { Io } from './explain-command.js';
import { expandImagePaths, loadImages, zooSampleBatch } from './inputs.js';
import { parseMethodSpec } from './method-spec.js';
import { type BackendName, backendNames, defaultModel, loadModel, readLabels } from './model-source.js';
import { checkOutDir, parseFormats, writeOutputs } from './outputs.js';
import { ProgressBar } from './progress.js';
import { probabilities } from './session.js';

type Values = ParsedArgs['values'];

/** One optimisation the command runs: a batch of objectives that share a call. */
interface Job {
  readonly label: string;
  /** The objective option, and the explain targets (class objectives ride on `target`). */
  readonly objective: string;
  readonly targets: readonly number[];
  /** Caption of each item. */
  readonly captions: readonly string[];
  readonly input: Tensor;
}

/** The model's input range of the first channel, if known. */
function rangeOf(model: Model): readonly [number, number] | null {
  const r = model.info.inputRange;
  if (!r) return null;
  return typeof r[0] === 'number' ? (r as readonly [number, number]) : (r[0] as readonly [number, number]);
}

/** A batch of `n` images at the middle of the model's input range (the start is the method's `init`). */
function neutral(model: Model, n: number): Tensor {
  const [lo, hi] = rangeOf(model) ?? [0, 0];
  const size = model.info.inputShape.reduce((a, b) => a * b, 1);
  return { data: new Float32Array(n * size).fill((lo + hi) / 2), shape: [n, ...model.info.inputShape] };
}

const labelOf = (model: Model, c: number): string => model.info.labels?.[c] ?? `class ${c}`;

/** What to optimise: every class by default; `class:k` objectives ride in one batch on `target`. */
function planJobs(values: Values, model: Model, method: string, images: Tensor | null): Job[] {
  const texts = values.objective ?? [];
  const k = model.info.numClasses;
  if (method === 'inversion') {
    if (texts.length > 0)
      throw new UsageError('inversion matches layer codes; it takes --layer, not --objective');
    if (!images)
      throw new UsageError('inversion needs images: --image PATH (or a zoo model, for its samples)');
    const layers = (values.layer ?? '').split(',').filter((l) => l !== '');
    return (layers.length > 0 ? layers : ['']).map((layer) => ({
      label: layer ? `inversion of ${layer}` : 'inversion of the last spatial layer',
      objective: layer,
      targets: Array.from({ length: images.shape[0] }, () => 0),
      captions: Array.from({ length: images.shape[0] }, (_, i) => `image ${i + 1}`),
      input: images,
    }));
  }
  const objectives: Objective[] =
    texts.length > 0
      ? texts.map(parseObjective)
      : Array.from({ length: k }, (_, c) => ({ kind: 'class', index: c }));
  const classes = objectives.filter((o) => o.kind === 'class' && (o.score ?? 'logit') === 'logit') as {
    index: number;
  }[];
  const others = objectives.filter((o) => !(o.kind === 'class' && (o.score ?? 'logit') === 'logit'));
  if (method === 'class-model' && others.length > 0)
    throw new UsageError(
      `class-model maximises class scores; ${others.map(formatObjective).join(', ')} need activation-maximisation`,
    );
  const jobs: Job[] = [];
  if (classes.length > 0)
    jobs.push({
      label: 'class visualisations',
      objective: 'target',
      targets: classes.map((o) => o.index),
      captions: classes.map((o) => `class:${o.index} ${labelOf(model, o.index)}`),
      input: images && images.shape[0] === classes.length ? images : neutral(model, classes.length),
    });
  for (const o of others)
    jobs.push({
      label: formatObjective(o),
      objective: formatObjective(o),
      targets: [0],
      captions: [formatObjective(o)],
      input: neutral(model, 1),
    });
  return jobs;
}

/** The picture of item `i` of a synthesised batch, in the model's value range, magnified. */
function picture(model: Model, t: Tensor, i: number, scale: number): RgbaImage {
  let range = rangeOf(model);
  if (!range) {
    // Unknown range: stretch the item's own values.
    const per = t.data.length / t.shape[0];
    const part = t.data.subarray(i * per, (i + 1) * per);
    range = [Math.min(...part), Math.max(...part)];
  }
  return imageGrid([imageInRange(t, model.info.layout, i, range[0], range[1])], { scale });
}

/**
 * `xlens visualize`: what a model has learned — class visualisations, or any objective, by a
 * synthesis method (`@xlens/synthesis`), with snapshots every k steps and the first-layer filters,
 * as an HTML report with PNGs, `.npy` images and `results.json`.
 */
export async function visualizeCommand(values: Values, io: Io): Promise<number> {
  const registry = new Registry(synthesisMethods);
  const { explainer, options } = parseMethodSpec(values.method?.[0] ?? 'activation-maximisation', registry);
  if ((values.method?.length ?? 0) > 1) throw new UsageError('xlens visualize runs one --method at a time');
  const steps = intFlag('steps', values.steps, 1);
  const seed = intFlag('seed', values.seed, -(2 ** 31));
  const batchSize = intFlag('batch-size', values['batch-size'], 1);
  const formats = parseFormats(values.format ?? 'html,png,npy,json');
  const outDir = values.out ?? 'xlens-visualize';
  await checkOutDir(outDir);
  const backend = choiceFlag<BackendName>('backend', values.backend, backendNames);
  const labels = values.labels !== undefined ? await readLabels(values.labels) : undefined;
  // Images enter as pixel / 255, so a model that states no range is taken to read [0, 1] (a method
  // option range=low;high says otherwise).
  const loaded = await loadModel(values.model ?? defaultModel, { backend, labels, inputRange: [0, 1] });
  const { model } = loaded;
  try {
    const images =
      values.image !== undefined
        ? (await loadImages(await expandImagePaths(values.image), model.info, {})).tensor
        : loaded.zoo
          ? zooSampleBatch(loaded.zoo, model, 3).tensor
          : null;
    const jobs = planJobs(values, model, explainer.id, explainer.id === 'inversion' ? images : null);
    const merged = { ...options, ...(steps !== undefined ? { steps } : {}) } as Record<string, unknown>;
    const total = (merged.steps as number | undefined) ?? (explainer.defaults as { steps: number }).steps;
    const every = intFlag('snapshot-every', values['snapshot-every'], 1) ?? Math.max(1, Math.ceil(total / 8));
    const bar = new ProgressBar(io.stderr, jobs.length, values.quiet);
    const runs: { job: Job; attribution: Attribution; probs: Float64Array[] }[] = [];
    for (const [j, job] of jobs.entries()) {
      bar.start(j, job.label);
      const own =
        explainer.id === 'inversion'
          ? { layer: job.objective }
          : explainer.id === 'class-model'
            ? {}
            : { objective: job.objective };
      const attribution = await explainer.explain(model, job.input, [...job.targets], {
        ...merged,
        ...own,
        snapshotEvery: every,
        seed,
        batchSize,
        onProgress: (p) => bar.update(p.done, p.total),
      });
      bar.finish(attribution.timing.milliseconds);
      const out = await model.forward(attribution.map);
      const k = model.info.numClasses;
      const probs = Array.from({ length: out.shape[0] }, (_, i) =>
        probabilities(out.data.subarray(i * k, (i + 1) * k), model.info.outputKind),
      );
      runs.push({ job, attribution, probs });
    }
    bar.end();
    const galleries: ReportGallery[] = runs.map(({ job, attribution, probs }) => {
      const top = (i: number) => {
        const c = probs[i].indexOf(Math.max(...probs[i]));
        return `→ ${labelOf(model, c)} ${(100 * probs[i][c]).toFixed(1)}%`;
      };
      const snaps = synthesisSnapshots(attribution);
      return {
        title: `${explainer.title}: ${job.label}`,
        description: `${explainer.citation}. ${attribution.map.shape[0]} image(s), ${total} steps; each row shows the image every ${every} steps, the last one the result with the model's top class.`,
        rows: job.captions.map((caption, i) => ({
          label: caption,
          images: snaps.map((s) => ({
            image: picture(model, s.images, i, 2),
            caption: s.step === snaps[snaps.length - 1].step ? `step ${s.step} ${top(i)}` : `step ${s.step}`,
          })),
        })),
      };
    });
    if (model.capabilities.has('weights') && model.capabilities.has('layers')) {
      try {
        const f = await filterImages(model);
        galleries.push({
          title: `First-layer filters (${f.layer})`,
          description:
            'Krizhevsky et al., 2012: the kernels of the first convolution, 0.5 grey for a zero weight.',
          rows: [{ images: [{ image: imageGrid(filterTiles(f.images), { scale: 12, gap: 4 }) }] }],
        });
      } catch (e) {
        // A model without a conv layer has no filters to show; the rest of the report stands.
        if (!values.quiet) io.stderr.write(`xlens: no filter images: ${(e as Error).message}\n`);
      }
    }
    const results = runs.flatMap(({ job, attribution, probs }) =>
      job.captions.map((caption, i) => ({
        objective: caption,
        value: (attribution.extras.objective as number[])[i],
        probabilities: Array.from(probs[i]),
      })),
    );
    const files = await writeOutputs(
      outDir,
      formats,
      {
        title: `xlens visualize — ${model.info.name}`,
        model: {
          name: model.info.name,
          backend: loaded.backend,
          inputShape: model.info.inputShape,
          layout: model.info.layout,
          numClasses: model.info.numClasses,
        },
        methods: [
          {
            id: explainer.id,
            title: explainer.title,
            family: explainer.family,
            citation: explainer.citation,
            description: explainer.description,
            milliseconds: runs.reduce((s, r) => s + r.attribution.timing.milliseconds, 0),
          },
        ],
        items: [],
        galleries,
        settings: { method: explainer.id, steps: total, 'snapshot every': every, seed: seed ?? 0 },
        generatedAt: new Date().toISOString(),
      },
      runs.map(({ attribution }, j) => ({ key: `${explainer.id}-${j + 1}`, attribution })),
      { model: loaded.source, method: explainer.id, options: runs[0]?.attribution.options ?? {}, results },
    );
    io.stdout.write(
      `${results.map((r) => `${r.objective}: objective ${r.value.toFixed(3)}`).join('\n')}\nwrote ${files.length} files to ${outDir}\n`,
    );
    return 0;
  } finally {
    await model.dispose();
  }
}
