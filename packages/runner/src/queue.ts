import { hostname } from 'node:os';
import { InputError, XlensError } from '@xlens/core';
import { type ConnectionOptions, Job, Queue, Worker } from 'bullmq';
import { pendingUnits, progressTracker, type RunProgressEvent, type RunSummary } from './embedded.js';
import { type EvaluationPlan, planId, type UnitResult, type WorkUnit } from './plan.js';
import { ThreadPool } from './pool.js';
import type { ResultStore } from './store.js';

/** The queue units go to unless told otherwise; workers listen on the same name. */
export const defaultQueueName = 'xlens-units';

/**
 * How BullMQ treats a unit whose worker vanished. A worker renews its lock on a running unit every
 * `lockDuration / 2` ms (from its main thread: units compute in worker threads, so a busy unit
 * does not starve the renewal); a killed worker's lock expires after `lockDuration`, and the next
 * stalled-job check of any live worker (every `stalledInterval`) puts the unit back in the queue.
 * A unit that stalls more than `maxStalledCount` times, or fails `attempts` times, is given up
 * and reported.
 */
export interface QueueTiming {
  /** Default 10 000 ms. */
  readonly lockDuration?: number;
  /** Default 5 000 ms. */
  readonly stalledInterval?: number;
  /** Default 2. */
  readonly maxStalledCount?: number;
  /** Attempts of a unit that throws (a worker that cannot read the model, say). Default 3. */
  readonly attempts?: number;
}

const timing = (t: QueueTiming) => ({
  lockDuration: t.lockDuration ?? 10_000,
  stalledInterval: t.stalledInterval ?? 5_000,
  maxStalledCount: t.maxStalledCount ?? 2,
  attempts: t.attempts ?? 3,
});

/** A Redis URL as BullMQ connection options (checked, so a typo fails before anything is queued). */
export function redisConnection(url: string): ConnectionOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputError('invalid-input', `queue ${JSON.stringify(url)} is not a URL; use redis://host:port`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new InputError('invalid-input', `queue ${url} is not a redis:// or rediss:// URL`);
  // Workers block on Redis: BullMQ needs unlimited retries per request on their connections.
  return { url, maxRetriesPerRequest: null };
}

/** What a unit job carries. */
interface UnitJob {
  readonly plan: EvaluationPlan;
  readonly unit: WorkUnit;
  /** The queue the result goes to (one per run, read by its coordinator). */
  readonly results: string;
}

/** What a result job carries. */
interface ResultJob {
  readonly unit: WorkUnit;
  readonly result: UnitResult;
  readonly attempts: number;
  readonly worker: string;
}

/** Options of `runOnQueue`. */
export interface QueueRunOptions extends QueueTiming {
  /** `redis://host:port`. */
  readonly url: string;
  /** Queue name (default `xlens-units`). */
  readonly name?: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: RunProgressEvent) => void;
  /** How often the coordinator checks for given-up units, in ms. Default 500. */
  readonly pollMilliseconds?: number;
}

/**
 * Coordinate a run over BullMQ: enqueue the units the store lacks (job id = unit key, so a unit
 * is queued once however often the coordinator restarts), and write the results workers send back
 * into the store until every unit has a result or has been given up. Workers (`runQueueWorker`,
 * on any machine that reaches Redis and the plan's model and data paths) do the compute; a result
 * that arrives twice (a unit retried after its first worker got the result out) is ignored.
 */
export async function runOnQueue(
  plan: EvaluationPlan,
  store: ResultStore,
  options: QueueRunOptions,
): Promise<RunSummary> {
  const connection = redisConnection(options.url);
  const t = timing(options);
  const name = options.name ?? defaultQueueName;
  const { run, items, units, missing } = await pendingUnits(plan, store);
  const resumed = units.length - missing.length;
  const progress = progressTracker(units.length, resumed, options.onProgress);
  progress.emit();
  const resultsName = `${name}-results-${run.slice(0, 16)}`;
  const work = new Queue<UnitJob>(name, { connection });
  const unitsByKey = new Map(units.map((u) => [u.key, u]));
  let computed = 0;
  let duplicates = 0;
  const given = new Map<string, string>();
  const results = new Worker<ResultJob>(
    resultsName,
    async (job) => {
      const { unit, result, attempts, worker } = job.data;
      if (!unitsByKey.has(unit.key)) return;
      if (store.record(unit, result, attempts, worker)) {
        computed++;
        progress.finished();
      } else duplicates++;
    },
    { connection, concurrency: 1 },
  );
  try {
    // A unit given up by an earlier coordinator's workers stays in the failed set under its key:
    // retry it rather than adding a job BullMQ would ignore as a duplicate id.
    const fresh: WorkUnit[] = [];
    for (const unit of missing) {
      const job = await Job.fromId<UnitJob>(work, unit.key);
      if (!job) fresh.push(unit);
      else if ((await job.getState()) === 'failed')
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    }
    await work.addBulk(
      fresh.map((unit) => ({
        name: 'unit',
        data: { plan, unit, results: resultsName },
        opts: {
          jobId: unit.key,
          attempts: t.attempts,
          backoff: { type: 'fixed', delay: 500 },
          removeOnComplete: true,
          removeOnFail: false,
        },
      })),
    );
    const poll = options.pollMilliseconds ?? 500;
    for (;;) {
      if (options.signal?.aborted)
        throw new XlensError('aborted', `evaluation aborted; ${computed} units were recorded`);
      const finished = store.finishedKeys(run);
      for (const job of await work.getFailed()) {
        const data = job.data as UnitJob | undefined;
        if (data?.unit.run === run && !finished.has(data.unit.key) && !given.has(data.unit.key)) {
          given.set(data.unit.key, job.failedReason || 'failed');
          progress.failed();
        }
      }
      if (units.every((u) => finished.has(u.key) || given.has(u.key))) break;
      await new Promise((r) => setTimeout(r, poll));
    }
  } finally {
    await results.close();
    await work.close();
  }
  // Results queue of a finished run: nothing left in it that the store lacks.
  if (given.size === 0) {
    const q = new Queue(resultsName, { connection });
    await q.obliterate({ force: true }).catch(() => undefined);
    await q.close();
  }
  return {
    run,
    items,
    units: units.length,
    resumed,
    computed,
    unfinished: [...given].map(([key, reason]) => ({ key, reason })),
    duplicates,
  };
}

/** Options of `runQueueWorker`. */
export interface QueueWorkerOptions extends QueueTiming {
  readonly url: string;
  readonly name?: string;
  /** Worker threads (units computed at once). Default: the machine's cores. */
  readonly threads?: number;
  /** Called when a unit starts, finishes or fails here (for logs). */
  readonly onEvent?: (event: { type: 'start' | 'done' | 'error'; unit: WorkUnit; message?: string }) => void;
}

/** A running queue worker. */
export interface QueueWorkerHandle {
  /** Finish the running units, then stop. */
  close(): Promise<void>;
}

/**
 * Pull units from the queue and compute them on a pool of worker threads (one pool per plan, each
 * thread with its own model session), sending each result to its run's results queue. Runs until
 * `close`.
 */
export async function runQueueWorker(options: QueueWorkerOptions): Promise<QueueWorkerHandle> {
  const connection = redisConnection(options.url);
  const t = timing(options);
  const threads = options.threads ?? ThreadPool.defaultThreads();
  const pools = new Map<string, ThreadPool>();
  const outs = new Map<string, Queue<ResultJob>>();
  const me = `${hostname()}:${process.pid}`;
  const worker = new Worker<UnitJob>(
    options.name ?? defaultQueueName,
    async (job) => {
      const { plan, unit, results } = job.data;
      const id = planId(plan);
      let pool = pools.get(id);
      if (!pool) {
        // One plan at a time keeps one model session per thread.
        for (const [k, p] of pools) {
          if (p.pending === 0) {
            await p.close();
            pools.delete(k);
          }
        }
        pool = new ThreadPool(plan, { threads });
        pools.set(id, pool);
      }
      options.onEvent?.({ type: 'start', unit });
      let result: UnitResult;
      try {
        result = await pool.run(unit);
      } catch (e) {
        options.onEvent?.({ type: 'error', unit, message: (e as Error).message });
        throw e;
      }
      let out = outs.get(results);
      if (!out) {
        out = new Queue<ResultJob>(results, { connection });
        outs.set(results, out);
      }
      await out.add(
        'result',
        { unit, result, attempts: job.attemptsStarted, worker: me },
        { jobId: unit.key, removeOnComplete: true, removeOnFail: false },
      );
      options.onEvent?.({ type: 'done', unit });
    },
    {
      connection,
      concurrency: threads,
      lockDuration: t.lockDuration,
      stalledInterval: t.stalledInterval,
      maxStalledCount: t.maxStalledCount,
    },
  );
  await worker.waitUntilReady();
  return {
    async close() {
      await worker.close();
      for (const p of pools.values()) await p.close();
      for (const q of outs.values()) await q.close();
    },
  };
}
