import { dominantClassMap } from '@xlens/cam';
import type { AnyExplainer, Attribution, ModelInfo, Tensor } from '@xlens/core';
import {
  classLegend,
  classPalette,
  colorizeClasses,
  heatAlpha,
  type NormalizeMode,
  normalizeMaps,
  overlay,
  type RenderedMap,
  type ReportItem,
  type ReportMap,
  type ReportSpec,
  type RgbaImage,
  renderAttributions,
  resizeMaps,
  resizeNearest,
  toPixelMap,
} from '@xlens/viz';

/** A finished method run. */
export interface MethodRun {
  readonly key: string;
  readonly explainer: AnyExplainer;
  readonly attribution: Attribution;
  /** Part of the method's time spent on one-time set-up (ONNX graph and session builds). */
  readonly setupMilliseconds: number;
}

/** A run's warm time: its wall time without the one-time set-up. */
export const warmMilliseconds = (r: MethodRun): number =>
  Math.max(r.attribution.timing.milliseconds - r.setupMilliseconds, 0);

/** A method that failed: its one-line error replaces its maps. */
export interface MethodFailure {
  readonly key: string;
  readonly explainer: AnyExplainer;
  readonly error: string;
}

/**
 * How maps are drawn. `auto`: `signed` for maps with both signs, else `abs`, both clipped at the
 * 99th percentile of |value| so a few extreme pixels do not wash the rest out.
 */
export interface DrawOptions {
  readonly normalize: NormalizeMode | 'auto';
  /** Percentile of |value| at the ends of the colour scale (`auto` default 99, else viz's). */
  readonly clip?: number;
  readonly shared: boolean;
  readonly colormap?: string;
}

/** One predicted class with its probability. */
export interface Prediction {
  readonly index: number;
  readonly label?: string;
  readonly probability: number;
}

const hasBothSigns = (t: Tensor): boolean => {
  let neg = false;
  let pos = false;
  for (const v of t.data) {
    if (v < 0) neg = true;
    else if (v > 0) pos = true;
    if (neg && pos) return true;
  }
  return false;
};

const isClassMap = (a: Attribution): boolean => Array.isArray(a.extras.dominantClass);

/** CLEAR-style results: colour by dominant class, brightness by dominant response, plus a legend. */
function drawClassMap(
  a: Attribution,
  images: readonly RgbaImage[],
  info: ModelInfo,
): Omit<ReportMap, 'method' | 'options' | 'milliseconds'>[] {
  const { height, width } = images[0];
  const response = resizeMaps(a.map, height, width);
  const classes = dominantClassMap(a);
  const cls = resizeNearest(classes, height, width).data;
  const norm = normalizeMaps(response, { mode: 'abs' }).maps[0].data;
  const palette = classPalette(info.numClasses);
  const n = height * width;
  return images.map((img, i) => {
    const c = cls.subarray(i * n, (i + 1) * n);
    const r = norm.subarray(i * n, (i + 1) * n);
    const raw = colorizeClasses(c, r, width, height, palette);
    return {
      raw,
      overlay: overlay(img, raw, { alpha: 0.75, weights: heatAlpha(r, false) }),
      legend: classLegend(c, info.labels ?? [], palette),
    };
  });
}

/** Draw every map of every item: `[run][item]`. */
export function drawMaps(
  runs: readonly MethodRun[],
  images: readonly RgbaImage[],
  info: ModelInfo,
  draw: DrawOptions,
): Omit<ReportMap, 'method' | 'options' | 'milliseconds'>[][] {
  const out: Omit<ReportMap, 'method' | 'options' | 'milliseconds'>[][] = runs.map(() => []);
  const plain = runs.map((r, i) => ({ r, i })).filter(({ r }) => !isClassMap(r.attribution));
  const modeOf = (a: Attribution): NormalizeMode =>
    draw.normalize !== 'auto' ? draw.normalize : hasBothSigns(toPixelMap(a)) ? 'signed' : 'abs';
  const render = (group: typeof plain, mode: NormalizeMode, shared: boolean): void => {
    if (group.length === 0) return;
    const drawn: RenderedMap[][] = renderAttributions(
      group.map(({ r }) => r.attribution),
      images,
      {
        normalize: mode,
        shared,
        clip: draw.clip ?? (draw.normalize === 'auto' ? 99 : undefined),
        colormap: mode === 'signed' ? undefined : draw.colormap,
      },
    );
    group.forEach(({ i }, g) => {
      out[i] = drawn[g].map((d) => ({
        overlay: d.overlay,
        raw: d.raw,
        scale: d.scale,
        colormap: d.colormap.name,
      }));
    });
  };
  if (draw.shared) {
    const mode =
      draw.normalize !== 'auto'
        ? draw.normalize
        : plain.some(({ r }) => modeOf(r.attribution) === 'signed')
          ? 'signed'
          : 'abs';
    render(plain, mode, true);
  } else {
    for (const p of plain) render([p], modeOf(p.r.attribution), false);
  }
  runs.forEach((r, i) => {
    if (isClassMap(r.attribution)) out[i] = drawClassMap(r.attribution, images, info);
  });
  return out;
}

/** Everything the report shows besides the maps. */
export interface ReportContext {
  readonly info: ModelInfo;
  readonly backend: string;
  readonly names: readonly string[];
  readonly images: readonly RgbaImage[];
  readonly predictions: readonly (readonly Prediction[])[];
  readonly targets: readonly number[];
  readonly forwardMs: number;
  readonly settings: Readonly<Record<string, string | number | boolean>>;
}

const optionsShown = (a: Attribution): Record<string, unknown> => {
  const { batchSize: _b, seed: _s, ...rest } = a.options as Record<string, unknown>;
  return rest;
};

/** Assemble the viz report from the runs. */
export function buildReportSpec(
  runs: readonly MethodRun[],
  failures: readonly MethodFailure[],
  ctx: ReportContext,
  draw: DrawOptions,
): ReportSpec {
  const drawn = drawMaps(runs, ctx.images, ctx.info, draw);
  const n = ctx.names.length;
  const items: ReportItem[] = ctx.names.map((name, i) => ({
    name,
    image: ctx.images[i],
    predictions: ctx.predictions[i],
    target: { index: ctx.targets[i], label: ctx.info.labels?.[ctx.targets[i]] },
    maps: runs.map((r, m) => ({
      ...drawn[m][i],
      method: r.key,
      options: optionsShown(r.attribution),
      milliseconds: r.attribution.timing.milliseconds,
      batchItems: n,
      ratio: warmMilliseconds(r) / ctx.forwardMs,
      warnings: r.attribution.warnings,
    })),
  }));
  return {
    model: {
      name: ctx.info.name,
      backend: ctx.backend,
      inputShape: ctx.info.inputShape,
      layout: ctx.info.layout,
      numClasses: ctx.info.numClasses,
    },
    methods: [
      ...runs.map((r) => ({
        id: r.key,
        title: r.key === r.explainer.id ? r.explainer.title : `${r.explainer.title} (${r.key})`,
        family: r.explainer.family,
        citation: r.explainer.citation,
        description: r.explainer.description,
        milliseconds: r.attribution.timing.milliseconds,
        ratio: r.attribution.timing.milliseconds / ctx.forwardMs,
      })),
      ...failures.map((f) => ({
        id: f.key,
        title: f.key === f.explainer.id ? f.explainer.title : `${f.explainer.title} (${f.key})`,
        family: f.explainer.family,
        citation: f.explainer.citation,
        error: f.error,
      })),
    ],
    items,
    settings: ctx.settings,
    forwardMilliseconds: ctx.forwardMs,
    generatedAt: new Date().toISOString(),
  };
}
