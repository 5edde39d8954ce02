import { XlensError } from '@xlens/core';
import { datasetSize } from './dataset.js';
import { type EvaluationPlan, planUnits, type WorkUnit } from './plan.js';
import { ThreadPool, type ThreadPoolOptions } from './pool.js';
import type { ResultStore } from './store.js';

/** Progress of a run, for a bar with an ETA. */
export interface RunProgressEvent {
  /** Units of the whole plan. */
  readonly total: number;
  /** Units with a result (including those found in the database at the start). */
  readonly done: number;
  /** Units found finished at the start (skipped). */
  readonly resumed: number;
  /** Units that failed to run this time (a thread or worker died, a queue gave up): not recorded. */
  readonly lost: number;
  readonly elapsedMs: number;
  /** Estimated time to finish, from this run's pace; NaN before the first unit. */
  readonly etaMs: number;
}

/** What a run did. */
export interface RunSummary {
  /** The run id (`planId`). */
  readonly run: string;
  readonly items: number;
  readonly units: number;
  readonly resumed: number;
  readonly computed: number;
  /** Units not finished, with why (a rerun tries them again). */
  readonly unfinished: readonly { readonly key: string; readonly reason: string }[];
  /** Results that arrived for a unit already recorded and were ignored. */
  readonly duplicates: number;
}

/** Options of `runEmbedded`. */
export interface EmbeddedOptions extends ThreadPoolOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: RunProgressEvent) => void;
}

/** A progress reporter's bookkeeping, shared by the embedded and the queue runs. */
export function progressTracker(total: number, resumed: number, onProgress?: (p: RunProgressEvent) => void) {
  const t0 = performance.now();
  let done = resumed;
  let lost = 0;
  const emit = (): void => {
    const elapsedMs = performance.now() - t0;
    const fresh = done - resumed;
    const left = total - done - lost;
    onProgress?.({
      total,
      done,
      resumed,
      lost,
      elapsedMs,
      etaMs: fresh > 0 ? (elapsedMs / fresh) * left : left === 0 ? 0 : Number.NaN,
    });
  };
  return {
    emit,
    finished(): void {
      done++;
      emit();
    },
    failed(): void {
      lost++;
      emit();
    },
  };
}

/** Units of a plan still without a result in the store; records the run. */
export async function pendingUnits(
  plan: EvaluationPlan,
  store: ResultStore,
): Promise<{ run: string; items: number; units: WorkUnit[]; missing: WorkUnit[] }> {
  const items = await datasetSize(plan.dataset);
  const units = planUnits(plan, items);
  const run = store.beginRun(plan, items, units.length);
  const finished = store.finishedKeys(run);
  return { run, items, units, missing: units.filter((u) => !finished.has(u.key)) };
}

/**
 * Run a plan on this machine: a pool of worker threads (each with its own model session) computes
 * the units the store does not have yet, and each result is written as it arrives. Rerunning the
 * same plan on the same store computes only the missing units; an interrupted run loses only the
 * units that were running. Units of the same range and method go to the same thread in a row, so
 * the method's maps are computed once per range.
 */
export async function runEmbedded(
  plan: EvaluationPlan,
  store: ResultStore,
  options: EmbeddedOptions = {},
): Promise<RunSummary> {
  const { run, items, units, missing } = await pendingUnits(plan, store);
  const resumed = units.length - missing.length;
  const progress = progressTracker(units.length, resumed, options.onProgress);
  progress.emit();
  const unfinished: { key: string; reason: string }[] = [];
  let computed = 0;
  let duplicates = 0;
  if (missing.length > 0) {
    // One lane per thread; a lane takes all units of one (range, method) group at a time.
    const groups = new Map<string, WorkUnit[]>();
    for (const u of missing) {
      const k = `${u.start}:${u.methodIndex}`;
      groups.set(k, [...(groups.get(k) ?? []), u]);
    }
    const queue = [...groups.values()];
    const threads = Math.min(options.threads ?? ThreadPool.defaultThreads(), queue.length);
    const pool = new ThreadPool(plan, { ...options, threads });
    const abort = () => void pool.close();
    options.signal?.addEventListener('abort', abort, { once: true });
    const lane = async (): Promise<void> => {
      for (let group = queue.shift(); group; group = queue.shift())
        for (const unit of group) {
          if (options.signal?.aborted) {
            unfinished.push({ key: unit.key, reason: 'aborted' });
            continue;
          }
          try {
            const result = await pool.run(unit);
            if (store.record(unit, result)) computed++;
            else duplicates++;
            progress.finished();
          } catch (e) {
            unfinished.push({ key: unit.key, reason: (e as Error).message });
            progress.failed();
          }
        }
    };
    try {
      await Promise.all(Array.from({ length: threads }, lane));
    } finally {
      options.signal?.removeEventListener('abort', abort);
      await pool.close();
    }
    if (options.signal?.aborted)
      throw new XlensError('aborted', `evaluation aborted; ${computed} units were recorded`);
  }
  return { run, items, units: units.length, resumed, computed, unfinished, duplicates };
}
