import { type MethodFailure, type MethodRun, warmMilliseconds } from './report-spec.js';
import type { Session } from './session.js';
import { versions } from './versions.js';

/** Extras longer than this (e.g. CLEAR's per-pixel classes) stay out of results.json; npy has the maps. */
const MAX_EXTRA_LENGTH = 64;

/** The backend's notes on the model, and a warning whenever the explained outputs are probabilities. */
export function modelWarnings(session: Session): string[] {
  const { info } = session.model;
  const notes = [...session.warnings];
  if (info.outputKind === 'probabilities' && !notes.some((w) => /probabilit/.test(w))) {
    notes.push(
      `${info.name}'s outputs are probabilities: explained scores saturate where the model is confident (gradients vanish with p(1 − p)) and LRP relevance does not sum to a logit`,
    );
  }
  return notes;
}

/** What the model's outputs are, for the report: logits (and the softmax removed) or probabilities. */
export function outputNotes(session: Session): Record<string, string> {
  const { outputKind, outputActivation: head } = session.model.info;
  const outputs =
    head?.removed === true
      ? `logits (${head.kind} ${head.layer} removed; --score softmax explains the probability)`
      : head
        ? `${outputKind} (${head.kind} ${head.layer} kept)`
        : outputKind;
  const warnings = modelWarnings(session);
  return { outputs, ...(warnings.length > 0 ? { 'model warnings': warnings.join(' · ') } : {}) };
}

/** The content of `results.json`: model, settings, per input and per method what was done and found. */
export function resultsJson(
  session: Session,
  runs: readonly MethodRun[],
  failures: readonly MethodFailure[],
  targets: readonly number[],
  settings: Readonly<Record<string, string | number | boolean>>,
  withNpy: boolean,
): unknown {
  const { model, batch, forwardMs } = session;
  return {
    model: {
      name: model.info.name,
      source: session.source,
      backend: session.backend,
      inputShape: model.info.inputShape,
      layout: model.info.layout,
      numClasses: model.info.numClasses,
      labels: model.info.labels,
      outputKind: model.info.outputKind,
      outputActivation: model.info.outputActivation,
      warnings: modelWarnings(session),
    },
    settings,
    preprocessing: session.preprocessing,
    versions: versions(),
    forwardMilliseconds: forwardMs,
    items: batch.names.map((name, i) => ({ name, target: targets[i], predictions: session.predictions[i] })),
    methods: runs.map((r) => ({
      key: r.key,
      id: r.explainer.id,
      family: r.explainer.family,
      options: r.attribution.options,
      milliseconds: r.attribution.timing.milliseconds,
      setupMilliseconds: r.setupMilliseconds,
      ratio: warmMilliseconds(r) / forwardMs,
      mapKind: r.attribution.mapKind,
      mapShape: r.attribution.map.shape,
      layout: r.attribution.layout,
      extras: Object.fromEntries(
        Object.entries(r.attribution.extras).filter(
          ([, v]) => typeof v === 'number' || v.length <= MAX_EXTRA_LENGTH,
        ),
      ),
      warnings: r.attribution.warnings,
      npy: withNpy ? `${r.key}.npy` : undefined,
    })),
    failed: failures.map((f) => ({
      key: f.key,
      id: f.explainer.id,
      family: f.explainer.family,
      error: f.error,
    })),
  };
}
