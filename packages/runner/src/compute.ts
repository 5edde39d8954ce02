import {
  argmaxRows,
  type Box,
  type EvaluateRequest,
  type MetricRegistry,
  type Registry,
  type Tensor,
  XlensError,
} from '@xlens/core';
import { nodeFileReader } from '@xlens/core/node';
import { datasetFingerprint, type ItemBatch, readItems } from './dataset.js';
import { type LoadedModel, loadRunnerModel, modelFingerprint } from './model-source.js';
import type { EvaluationPlan, ItemScore, UnitResult, WorkUnit } from './plan.js';
import { runnerMetricRegistry, runnerRegistry } from './registries.js';

const firstLine = (e: unknown): string => {
  const message = (e instanceof Error ? e.message : String(e)).split('\n')[0];
  return e instanceof XlensError ? `[${e.code}] ${message}` : message;
};

/** Rows `keep` of a batch tensor. */
function rows(t: Tensor, keep: readonly number[]): Tensor {
  const per = t.shape.slice(1).reduce((a, b) => a * b, 1);
  const data = new Float32Array(keep.length * per);
  keep.forEach((r, k) => {
    data.set(t.data.subarray(r * per, (r + 1) * per), k * per);
  });
  return { data, shape: [keep.length, ...t.shape.slice(1)] };
}

/** The items of a unit that reached the model, with their targets and ground truth. */
interface Prepared {
  readonly input: Tensor;
  readonly items: readonly { readonly item: number; readonly name: string }[];
  readonly targets: number[];
  readonly masks?: Tensor;
  readonly boxes?: readonly Box[];
  readonly skipped: ItemScore[];
}

/**
 * Computes work units of one plan with one model session: what a worker thread runs. It checks
 * once that the model and data set it reads have the plan's fingerprints, and keeps the last
 * method maps it computed, since a worker taking units in order meets the same range and method
 * once per metric.
 */
export class UnitComputer {
  readonly #plan: EvaluationPlan;
  readonly #intraOpThreads: number | undefined;
  readonly #registry: Registry = runnerRegistry();
  readonly #metrics: MetricRegistry = runnerMetricRegistry();
  #loaded: Promise<LoadedModel> | undefined;
  #prepared: { key: string; value: Promise<Prepared> } | undefined;
  readonly #maps = new Map<string, Promise<Tensor>>();

  constructor(plan: EvaluationPlan, options: { readonly intraOpThreads?: number } = {}) {
    this.#plan = plan;
    this.#intraOpThreads = options.intraOpThreads;
  }

  #model(): Promise<LoadedModel> {
    this.#loaded ??= (async () => {
      const model = modelFingerprint(this.#plan.model);
      if (model !== this.#plan.fingerprint.model)
        throw new XlensError(
          'invalid-input',
          `the model this worker reads (${this.#plan.model.ref}, sha256 ${model.slice(0, 12)}…) differs from the coordinator's (${this.#plan.fingerprint.model.slice(0, 12)}…)`,
        );
      const dataset = await datasetFingerprint(this.#plan.dataset);
      if (dataset !== this.#plan.fingerprint.dataset)
        throw new XlensError(
          'invalid-input',
          `the data set this worker reads differs from the coordinator's (fingerprint ${dataset.slice(0, 12)}… ≠ ${this.#plan.fingerprint.dataset.slice(0, 12)}…)`,
        );
      return loadRunnerModel(this.#plan.model, this.#intraOpThreads);
    })();
    return this.#loaded;
  }

  async #prepare(unit: WorkUnit, model: LoadedModel): Promise<Prepared> {
    const key = `${unit.start}:${unit.end}`;
    if (this.#prepared?.key !== key) {
      const value = (async (): Promise<Prepared> => {
        const batch: ItemBatch = await readItems(this.#plan.dataset, unit.start, unit.end, model.model.info);
        const skipped: ItemScore[] = batch.errors.map((e) => ({
          item: e.item,
          name: e.name,
          target: null,
          score: null,
          error: e.error,
        }));
        if (!batch.tensor)
          return { input: { data: new Float32Array(0), shape: [0] }, items: [], targets: [], skipped };
        let targets: number[];
        let keep = batch.items.map((_, k) => k);
        if (this.#plan.target === 'label') {
          keep = keep.filter((k) => batch.labels[k] >= 0);
          for (const [k, it] of batch.items.entries())
            if (batch.labels[k] < 0)
              skipped.push({ ...it, target: null, score: null, error: 'no label for target=label' });
          targets = keep.map((k) => batch.labels[k]);
        } else targets = Array.from(argmaxRows(await model.model.forward(batch.tensor)));
        const all = keep.length === batch.items.length;
        return {
          input: all ? batch.tensor : rows(batch.tensor, keep),
          items: keep.map((k) => batch.items[k]),
          targets,
          ...(batch.masks ? { masks: all ? batch.masks : rows(batch.masks, keep) } : {}),
          ...(batch.boxes ? { boxes: keep.map((k) => batch.boxes![k]) } : {}),
          skipped,
        };
      })();
      this.#prepared = { key, value };
      this.#maps.clear();
      value.catch(() => {
        if (this.#prepared?.value === value) this.#prepared = undefined;
      });
      return value;
    }
    return this.#prepared.value;
  }

  #explain(unit: WorkUnit, methodIndex: number, model: LoadedModel, p: Prepared): Promise<Tensor> {
    const method = this.#plan.methods[methodIndex];
    let maps = this.#maps.get(method.key);
    if (!maps) {
      maps = this.#registry
        .get(method.id)
        .explain(model.model, p.input, p.targets, {
          ...method.options,
          ...this.#runOptions(unit),
          score: this.#plan.score ?? 'logit',
        })
        .then((a) => a.map);
      // A failed explanation is not kept: the next unit retries it and reports its own error.
      maps.catch(() => this.#maps.delete(method.key));
      this.#maps.set(method.key, maps);
    }
    return maps;
  }

  #runOptions(unit: WorkUnit) {
    return {
      seed: unit.seed,
      registry: this.#registry,
      files: nodeFileReader,
      ...(this.#plan.batchSize !== undefined ? { batchSize: this.#plan.batchSize } : {}),
    };
  }

  /**
   * Compute one unit. Item-level problems (an unreadable image, an undefined score) are reported
   * per item; an error of the method or metric fails the unit's items with its message (it would
   * fail the same way anywhere). Throws when the model or data set cannot be read or differ from
   * the plan's fingerprints, and on abort.
   */
  async run(unit: WorkUnit): Promise<UnitResult> {
    const t0 = performance.now();
    const method = this.#plan.methods[unit.methodIndex];
    const spec = this.#plan.metrics[unit.metricIndex];
    // A model or data set this worker cannot read is the worker's problem, not the unit's: it
    // throws, so that the unit is retried (on another machine, for the queue) rather than recorded.
    const model = await this.#model();
    const p = await this.#prepare(unit, model);
    if (p.items.length === 0) return this.#done(unit, p.skipped, [], t0);
    try {
      const metric = this.#metrics.get(spec.id);
      const explainer = this.#registry.get(method.id);
      const request: EvaluateRequest = {
        model: model.model,
        input: p.input,
        target: p.targets,
        ...(metric.needs.includes('maps')
          ? { maps: await this.#explain(unit, unit.methodIndex, model, p) }
          : {}),
        ...(metric.needs.includes('reference') ? { reference: await this.#explain(unit, 0, model, p) } : {}),
        ...(p.masks ? { masks: p.masks } : p.boxes ? { boxes: p.boxes } : {}),
        explainer,
        explainerOptions: method.options,
      };
      const evaluation = await metric.evaluate(request, {
        ...spec.options,
        ...this.#runOptions(unit),
        ...(this.#plan.score ? { score: this.#plan.score } : {}),
      });
      const scored: ItemScore[] = p.items.map((it, k) => {
        const s = evaluation.scores[k];
        return Number.isFinite(s)
          ? { ...it, target: p.targets[k], score: s }
          : { ...it, target: p.targets[k], score: null, error: 'undefined score (see the unit warnings)' };
      });
      return this.#done(unit, [...p.skipped, ...scored], evaluation.warnings, t0);
    } catch (e) {
      if (e instanceof XlensError && e.code === 'aborted') throw e;
      const reason = firstLine(e);
      const failedItems: ItemScore[] = p.items.map((it, k) => ({
        ...it,
        target: p.targets[k],
        score: null,
        error: reason,
      }));
      return this.#failed(unit, [...p.skipped, ...failedItems], reason, t0);
    }
  }

  #done(unit: WorkUnit, items: ItemScore[], warnings: readonly string[], t0: number): UnitResult {
    return {
      key: unit.key,
      items: items.sort((a, b) => a.item - b.item),
      warnings: [...warnings],
      milliseconds: performance.now() - t0,
    };
  }

  #failed(unit: WorkUnit, items: ItemScore[], error: string, t0: number): UnitResult {
    return { ...this.#done(unit, items, [], t0), error };
  }

  /** Release the model session. */
  async dispose(): Promise<void> {
    const loaded = this.#loaded;
    this.#loaded = undefined;
    if (loaded) await (await loaded.catch(() => undefined))?.model.dispose();
  }
}
