import { readFile } from 'node:fs/promises';
import {
  type AnyCheck,
  type AnyExplainer,
  type CheckCurve,
  type CheckReport,
  type CheckThreshold,
  explain,
  type Model,
  type Registry,
  XlensError,
} from '@xlens/core';
import { localisationError } from '@xlens/eval';
import { pasteMark, shapesDataset, zooModel } from '@xlens/zoo';
import { publishedTable1, publishedTable3, table3Checks } from './review-published.js';

/** How big a run of the review suite is. */
export interface ReviewSuiteSettings {
  /** `--quick`: few items, cheap method settings, cascading randomisation only (what the tests run). */
  readonly quick: boolean;
  readonly seed: number;
  readonly batchSize: number;
  /** Items scored for Table 1. */
  readonly localisationItems: number;
  /**
   * Items the mask methods (hundreds of optimisation steps per item) score for Table 1: the first
   * ones of the same items.
   */
  readonly maskItems: number;
  /** Items each sanity check and manipulation runs on. */
  readonly checkItems: number;
}

/** One Table 1 row as measured. */
export interface LocalisationRow {
  readonly method: string;
  /** Table 1's approach this method implements, if it is in Table 1. */
  readonly approach?: string;
  readonly published?: number;
  /** Localisation error in percent over the scored items (NaN if none could be scored). */
  readonly error: number;
  /** Half-width of the 95% interval of the error (percent, normal approximation). */
  readonly ci95: number;
  /** Mean IoU of the 95%-energy box with the ground-truth box. */
  readonly iou: number;
  /** Mean area of the 95%-energy box as a fraction of the image. */
  readonly boxArea: number;
  readonly items: number;
  readonly milliseconds: number;
}

/** One (method, check) verdict as measured, next to the published one. */
export interface SanityCell {
  readonly method: string;
  readonly check: string;
  /** `error` when the check could not run the method (reason in `summary`). */
  readonly verdict: 'pass' | 'fail' | 'undecided' | 'error';
  readonly score: number;
  readonly threshold?: CheckThreshold;
  readonly summary: string;
  readonly published?: string;
  readonly statistics: Readonly<Record<string, number>>;
  readonly milliseconds: number;
}

/** One (method, manipulated model) result of the explanation-manipulation check. */
export interface ManipulationCell {
  readonly method: string;
  /** `constant`, `image`, `random`, `backdoor` (trigger pasted) or `backdoor-clean` (no trigger). */
  readonly kind: string;
  readonly verdict: 'pass' | 'fail' | 'undecided' | 'error';
  readonly relativeDifference: number;
  readonly forcedError: number;
  readonly logitDifference: number;
  readonly summary: string;
}

/** Everything the review suite measured. */
export interface ReviewSuiteResult {
  readonly settings: ReviewSuiteSettings;
  readonly models: Readonly<Record<string, string>>;
  readonly table1: readonly LocalisationRow[];
  readonly table3: readonly SanityCell[];
  /** Checks run besides Table 3's three, in column order. */
  readonly extraChecks: readonly string[];
  /** Model-randomisation curves per method. */
  readonly curves: readonly { readonly method: string; readonly curves: readonly CheckCurve[] }[];
  readonly manipulation: readonly ManipulationCell[];
  /** The forced explanations on the 8×8 Grad-CAM grid, for the report. */
  readonly forced: Readonly<Record<string, readonly number[]>>;
  readonly findings: readonly string[];
  /** Table 3 cells with a published pass/fail that could not be judged here (undecided or not applicable), and why. */
  readonly unjudged: readonly string[];
  /** Methods or checks that were not run, and why. */
  readonly skipped: readonly string[];
  readonly milliseconds: number;
}

/** What the suite runs with: the method registry, the checks available, and progress. */
export interface ReviewSuiteContext {
  readonly registry: Registry;
  /** The sanity checks available (by id); those missing are reported as skipped. */
  readonly checks: readonly AnyCheck[];
  /** Load an ONNX model from bytes (the CLI passes backend-onnx's `fromOnnx` with the zoo labels). */
  readonly loadOnnx: (bytes: Uint8Array, name: string) => Promise<Model>;
  /** `manipulateGradCam` of backend-onnx on decoded bytes, returning encoded bytes. */
  readonly manipulate: (bytes: Uint8Array, explanation: unknown) => Uint8Array;
  /** Options a method needs from the caller (e.g. `real-time-saliency`'s trained masker). */
  readonly methodOptions?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly onStep?: (label: string, step: number, total: number) => void;
  readonly signal?: AbortSignal;
}

/** Methods of Tables 1 and 3 (and the review's mask methods, when registered). */
const table1Methods = [
  'saliency',
  'guided-backprop',
  'lrp',
  'cam',
  'grad-cam',
  'occlusion',
  'gradient-x-input',
  'smoothgrad',
  'integrated-gradients',
  'grad-cam-plus-plus',
  'score-cam',
  'guided-grad-cam',
  'patternnet',
  'deep-taylor',
];
const maskMethods = ['meaningful-perturbation', 'extremal-perturbation', 'real-time-saliency', 'fgvis'];

/** Checks measured besides Table 3's, when available (no published column). */
const extraCheckIds = ['implementation-invariance', 'class-sensitivity', 'fragility'];

/** Per-method options: the defaults, made cheaper for `--quick`. */
function methodOptions(id: string, quick: boolean): Record<string, unknown> {
  switch (id) {
    case 'smoothgrad':
      return { samples: quick ? 8 : 25 };
    case 'integrated-gradients':
      return { steps: quick ? 16 : 50 };
    case 'occlusion':
      return quick ? { window: 8, stride: 8 } : { window: 8, stride: 4 };
    default:
      return {};
  }
}

/** The 8×8 picture forced by the `image` and `backdoor` manipulations (a face). */
export const FORCED_PICTURE: readonly number[] = [
  '........',
  '..#..#..',
  '..#..#..',
  '........',
  '.#....#.',
  '..####..',
  '........',
  '........',
]
  .join('')
  .split('')
  .map((c) => (c === '#' ? 1 : 0));

/** The shapes shortcut mark (a 6×6 checker of 2×2 cells at rows/columns 2–7) as the backdoor trigger. */
const TRIGGER = {
  top: 2,
  left: 2,
  height: 6,
  width: 6,
  pattern: Array.from({ length: 36 }, (_, p) =>
    (((p % 6) >> 1) + (Math.floor(p / 6) >> 1)) % 2 === 0 ? 1 : 0,
  ),
};

function meanCi(values: readonly number[]): { mean: number; ci95: number } {
  const ok = values.filter(Number.isFinite);
  if (ok.length === 0) return { mean: Number.NaN, ci95: Number.NaN };
  const mean = ok.reduce((a, b) => a + b, 0) / ok.length;
  return { mean, ci95: 1.96 * Math.sqrt((mean * (1 - mean)) / ok.length) };
}

const meanOf = (values: readonly number[]): number => {
  const ok = values.filter(Number.isFinite);
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : Number.NaN;
};

const errorText = (e: unknown): string => {
  const m = (e instanceof Error ? e.message : String(e)).split('\n')[0];
  return e instanceof XlensError ? `[${e.code}] ${m}` : m;
};

/** The settings of a full or a quick run. */
export function reviewSuiteSettings(quick: boolean, seed = 0, batchSize = 16): ReviewSuiteSettings {
  return quick
    ? { quick, seed, batchSize, localisationItems: 6, maskItems: 0, checkItems: 2 }
    : { quick, seed, batchSize, localisationItems: 60, maskItems: 12, checkItems: 6 };
}

/** Seed of the shapes items the suite scores: not used by any zoo training or test run. */
export const REVIEW_DATA_SEED = 3003;

/**
 * Run the review suite on the zoo's shapes models (ONNX backend): Table 1 (localisation error of
 * every method on shapes boxes), Table 3 (each method through the sanity checks available, the
 * permuted-label model as the data-randomisation model), and explanation manipulation (Grad-CAM
 * forced to a constant, a picture, a random map and a backdoor) across the methods; then compare
 * with the published tables.
 */
export async function runReviewSuite(
  settings: ReviewSuiteSettings,
  ctx: ReviewSuiteContext,
): Promise<ReviewSuiteResult> {
  const started = performance.now();
  const { registry, quick } = { registry: ctx.registry, quick: settings.quick };
  const skipped: string[] = [];
  const has = (id: string): boolean => registry.list().some((e) => e.id === id);
  const explainerOf = (id: string): AnyExplainer => registry.get(id) as AnyExplainer;
  const checkOf = (id: string): AnyCheck | undefined => ctx.checks.find((c) => c.id === id);
  const run = {
    batchSize: settings.batchSize,
    seed: settings.seed,
    registry,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  };

  const shapesBytes = new Uint8Array(await readFile(zooModel('shapes').onnx));
  const model = await ctx.loadOnnx(shapesBytes, 'shapes');
  const opened: Model[] = [model];
  try {
    let permuted: Model | undefined;
    try {
      const bytes = new Uint8Array(await readFile(zooModel('shapes-permuted').onnx));
      permuted = await ctx.loadOnnx(bytes, 'shapes-permuted');
    } catch (e) {
      skipped.push(`data-randomisation: the permuted-label model could not be loaded (${errorText(e)})`);
    }
    if (permuted) opened.push(permuted);

    const methods = [...table1Methods, ...maskMethods.filter((m) => has(m) && !quick)].filter((m) => {
      if (has(m)) return true;
      skipped.push(`${m}: not in the method registry`);
      return false;
    });
    for (const m of maskMethods.filter((x) => has(x) && quick))
      skipped.push(`${m}: mask optimisation is left out of --quick`);
    const sanityMethods = publishedTable3.map((r) => r.method).filter((m) => methods.includes(m));
    const checkIds = [...table3Checks, ...extraCheckIds.filter((c) => !(quick && c === 'fragility'))].filter(
      (c) => {
        if (checkOf(c)) return true;
        skipped.push(`${c}: this xlens has no such check`);
        return false;
      },
    );
    const manipulationCheck = checkOf('explanation-manipulation');
    const manipulationMethods = quick
      ? ['grad-cam', 'saliency', 'guided-grad-cam']
      : methods.filter((m) => !maskMethods.includes(m));
    const kinds = ['constant', 'image', 'random', 'backdoor', 'backdoor-clean'];
    const total =
      methods.length +
      sanityMethods.length * checkIds.length +
      (manipulationCheck ? manipulationMethods.length * kinds.length : 0);
    let step = 0;
    const next = (label: string): void => ctx.onStep?.(label, step++, total);

    // ---- Table 1: localisation error on shapes boxes, each item explained for its true class ----
    const all = shapesDataset({ count: settings.localisationItems, seed: REVIEW_DATA_SEED });
    const few = shapesDataset({ count: Math.max(1, settings.maskItems), seed: REVIEW_DATA_SEED });
    const table1: LocalisationRow[] = [];
    for (const id of methods) {
      next(`table 1 · ${id}`);
      const data = maskMethods.includes(id) ? few : all;
      const t0 = performance.now();
      const published = publishedTable1.find((r) => r.methods[0] === id || r.methods.includes(id));
      try {
        const a = await explain(explainerOf(id), model, data.images, Array.from(data.labels), {
          ...methodOptions(id, quick),
          ...ctx.methodOptions?.[id],
          ...run,
        });
        const e = await localisationError.evaluate(
          { model, input: data.images, target: Array.from(data.labels), maps: a.map, boxes: data.boxes },
          run,
        );
        const { mean, ci95 } = meanCi(e.scores);
        table1.push({
          method: id,
          ...(published ? { approach: published.approach, published: published.error } : {}),
          error: 100 * mean,
          ci95: 100 * ci95,
          iou: meanOf(e.extras.iou ?? []),
          boxArea: meanOf(e.extras.boxArea ?? []),
          items: e.summary.count,
          milliseconds: performance.now() - t0,
        });
      } catch (error) {
        if (error instanceof XlensError && error.code === 'aborted') throw error;
        skipped.push(`table 1 · ${id}: ${errorText(error)}`);
      }
    }

    // ---- Table 3 (and the extra checks) ----
    const input = shapesDataset({ count: settings.checkItems, seed: REVIEW_DATA_SEED }).images;
    const table3: SanityCell[] = [];
    const curves: { method: string; curves: readonly CheckCurve[] }[] = [];
    for (const id of sanityMethods) {
      const published = publishedTable3.find((r) => r.method === id);
      for (const checkId of checkIds) {
        next(`${checkId} · ${id}`);
        const check = checkOf(checkId)!;
        const t0 = performance.now();
        const pub = published?.verdicts[checkId as (typeof table3Checks)[number]];
        if (checkId === 'data-randomisation' && !permuted) continue;
        try {
          const options: Record<string, unknown> = { ...run };
          if (checkId === 'model-randomisation') options.modes = quick ? 'cascading' : 'both';
          const report: CheckReport = await check.run(
            {
              model,
              input,
              explainer: explainerOf(id),
              explainerOptions: methodOptions(id, quick),
              ...(checkId === 'data-randomisation' ? { secondModel: permuted } : {}),
            },
            options,
          );
          table3.push({
            method: id,
            check: checkId,
            verdict: report.verdict,
            score: report.score,
            threshold: report.threshold,
            summary: report.summary,
            ...(pub ? { published: pub } : {}),
            statistics: report.statistics,
            milliseconds: performance.now() - t0,
          });
          if (checkId === 'model-randomisation') curves.push({ method: id, curves: report.curves });
        } catch (error) {
          if (error instanceof XlensError && error.code === 'aborted') throw error;
          table3.push({
            method: id,
            check: checkId,
            verdict: 'error',
            score: Number.NaN,
            summary: errorText(error),
            ...(pub ? { published: pub } : {}),
            statistics: {},
            milliseconds: performance.now() - t0,
          });
        }
      }
    }

    // ---- Explanation manipulation (Viering et al. 2019) on manipulated shapes models ----
    const manipulation: ManipulationCell[] = [];
    const forced: Record<string, readonly number[]> = {
      constant: new Array(64).fill(1),
      image: FORCED_PICTURE,
      backdoor: FORCED_PICTURE,
    };
    if (!manipulationCheck) skipped.push('explanation-manipulation: this xlens has no such check');
    else {
      const explanations: Record<string, unknown> = {
        constant: { kind: 'constant' },
        image: { kind: 'image', image: FORCED_PICTURE },
        random: { kind: 'random', seed: 7 },
        backdoor: { kind: 'backdoor', image: FORCED_PICTURE, trigger: TRIGGER },
      };
      const fooled: Record<string, Model> = {};
      for (const [kind, explanation] of Object.entries(explanations)) {
        fooled[kind] = await ctx.loadOnnx(ctx.manipulate(shapesBytes, explanation), `shapes-${kind}`);
        opened.push(fooled[kind]);
      }
      const triggered = pasteMark(input);
      for (const id of manipulationMethods) {
        for (const kind of kinds) {
          next(`manipulation ${kind} · ${id}`);
          const secondModel = fooled[kind === 'backdoor-clean' ? 'backdoor' : kind];
          const x = kind === 'backdoor' ? triggered : input;
          try {
            const r = await manipulationCheck.run(
              {
                model,
                input: x,
                explainer: explainerOf(id),
                explainerOptions: methodOptions(id, quick),
                secondModel,
              },
              { ...run, ...(forced[kind] ? { forced: forced[kind] } : {}) },
            );
            manipulation.push({
              method: id,
              kind,
              verdict: r.verdict,
              relativeDifference: r.statistics['relative-difference'] ?? Number.NaN,
              forcedError: r.statistics['forced-error'] ?? Number.NaN,
              logitDifference: r.statistics['logit-difference'] ?? Number.NaN,
              summary: r.summary,
            });
          } catch (error) {
            if (error instanceof XlensError && error.code === 'aborted') throw error;
            manipulation.push({
              method: id,
              kind,
              verdict: 'error',
              relativeDifference: Number.NaN,
              forcedError: Number.NaN,
              logitDifference: Number.NaN,
              summary: errorText(error),
            });
          }
        }
      }
    }
    ctx.onStep?.('done', total, total);
    return {
      settings,
      models: {
        model: 'zoo:shapes (ONNX)',
        ...(permuted ? { 'data-randomisation model': 'zoo:shapes-permuted (ONNX)' } : {}),
        manipulated: 'zoo:shapes + manipulateGradCam (constant, image, random, backdoor)',
      },
      table1,
      table3,
      extraChecks: checkIds.filter((c) => !(table3Checks as readonly string[]).includes(c)),
      curves,
      manipulation,
      forced: { ...forced, trigger: TRIGGER.pattern },
      findings: findings(table1, table3, manipulation),
      unjudged: table3
        .filter(
          (c) =>
            (c.published === 'pass' || c.published === 'fail') &&
            (c.verdict === 'undecided' || c.verdict === 'error'),
        )
        .map((c) => `${c.method} · ${c.check} (published ${c.published}): ${c.summary}`),
      skipped,
      milliseconds: performance.now() - started,
    };
  } finally {
    for (const m of opened) await m.dispose();
  }
}

/**
 * Where the measurements disagree with the review: Table 3 cells with a published pass/fail and
 * the opposite measured verdict (undecided cells are listed by `unjudged`); Table 1 methods whose rank among the published rows moved by two or
 * more places; and methods the manipulation fooled although they are not Grad-CAM.
 */
export function findings(
  table1: readonly LocalisationRow[],
  table3: readonly SanityCell[],
  manipulation: readonly ManipulationCell[],
): string[] {
  const out: string[] = [];
  for (const c of table3) {
    if (
      (c.published === 'pass' || c.published === 'fail') &&
      (c.verdict === 'pass' || c.verdict === 'fail') &&
      c.verdict !== c.published
    )
      out.push(
        `Table 3, ${c.method} · ${c.check}: published ${c.published}, measured ${c.verdict} (${c.summary})`,
      );
  }
  const both = table1.filter((r) => r.published !== undefined && Number.isFinite(r.error));
  const rank = (values: number[]): number[] => values.map((v) => values.filter((w) => w < v).length + 1);
  const rp = rank(both.map((r) => r.published!));
  const rm = rank(both.map((r) => r.error));
  both.forEach((r, i) => {
    if (Math.abs(rp[i] - rm[i]) >= 2)
      out.push(
        `Table 1, ${r.method}: rank ${rm[i]} of ${both.length} measured (${r.error.toFixed(1)}%) vs ${rp[i]} published (${r.published}%)`,
      );
  });
  const fooledBy = new Map<string, string[]>();
  for (const m of manipulation)
    if (m.verdict === 'fail' && m.kind !== 'backdoor-clean')
      fooledBy.set(m.method, [...(fooledBy.get(m.method) ?? []), m.kind]);
  for (const [method, kinds] of fooledBy)
    if (!['grad-cam'].includes(method))
      out.push(
        `Manipulation: ${method} changes on the Grad-CAM-manipulated models too (${kinds.join(', ')})`,
      );
  return out;
}
