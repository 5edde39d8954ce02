import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { EvaluationPlan, UnitResult, WorkUnit } from './plan.js';

/** Options of a `ThreadPool`. */
export interface ThreadPoolOptions {
  /** Worker threads, each with its own model session. Default: the machine's cores. */
  readonly threads?: number;
  /**
   * ONNX Runtime intra-op threads per session. Default: the cores divided among the threads (at
   * least 1), so that N sessions do not run N × cores threads.
   */
  readonly intraOpThreads?: number;
}

interface Task {
  readonly unit: WorkUnit;
  readonly resolve: (r: UnitResult) => void;
  readonly reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  task?: Task & { id: number };
}

/** Where the compiled worker entry is (from `src/` under a test runner: the build's copy). */
const workerUrl = (): URL =>
  new URL(
    import.meta.url.endsWith('.ts') ? '../dist/worker-thread.js' : './worker-thread.js',
    import.meta.url,
  );

/**
 * A pool of `worker_threads` computing units of one plan. A unit goes to an idle thread; a thread
 * that dies (a crash, an out-of-memory) fails its unit with an error and is replaced.
 */
export class ThreadPool {
  readonly threads: number;
  readonly #plan: EvaluationPlan;
  readonly #intraOpThreads: number;
  readonly #slots: Slot[] = [];
  readonly #queue: Task[] = [];
  #next = 0;
  #closed = false;

  /** The default number of threads: the machine's cores. */
  static defaultThreads(): number {
    return availableParallelism();
  }

  constructor(plan: EvaluationPlan, options: ThreadPoolOptions = {}) {
    const cores = availableParallelism();
    this.threads = options.threads ?? cores;
    if (!Number.isInteger(this.threads) || this.threads < 1)
      throw new RangeError(`threads must be an integer ≥ 1, got ${options.threads}`);
    this.#plan = plan;
    this.#intraOpThreads = options.intraOpThreads ?? Math.max(1, Math.floor(cores / this.threads));
    for (let i = 0; i < this.threads; i++) this.#slots.push({ worker: this.#spawn() });
  }

  #spawn(): Worker {
    const worker = new Worker(workerUrl(), {
      workerData: { plan: this.#plan, intraOpThreads: this.#intraOpThreads },
    });
    worker.on('message', (msg: { id: number; result?: UnitResult; error?: string }) => {
      const slot = this.#slots.find((s) => s.worker === worker);
      const task = slot?.task;
      if (!slot || !task || task.id !== msg.id) return;
      slot.task = undefined;
      if (msg.result) task.resolve(msg.result);
      else task.reject(new Error(msg.error ?? 'worker thread failed'));
      this.#pump();
    });
    const died = (err: Error) => {
      const slot = this.#slots.find((s) => s.worker === worker);
      if (!slot) return;
      const task = slot.task;
      slot.task = undefined;
      task?.reject(err);
      if (this.#closed) return;
      slot.worker = this.#spawn();
      this.#pump();
    };
    worker.on('error', died);
    worker.on('exit', (code) => {
      if (!this.#closed) died(new Error(`worker thread exited with code ${code}`));
    });
    return worker;
  }

  #pump(): void {
    for (const slot of this.#slots) {
      if (slot.task || this.#queue.length === 0) continue;
      const task = { ...this.#queue.shift()!, id: this.#next++ };
      slot.task = task;
      slot.worker.postMessage({ id: task.id, unit: task.unit });
    }
  }

  /** Compute a unit on the next idle thread. */
  run(unit: WorkUnit): Promise<UnitResult> {
    if (this.#closed) return Promise.reject(new Error('thread pool is closed'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ unit, resolve, reject });
      this.#pump();
    });
  }

  /** Units waiting or running. */
  get pending(): number {
    return this.#queue.length + this.#slots.filter((s) => s.task).length;
  }

  /** Stop every thread (units still queued are rejected). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#queue.splice(0)) t.reject(new Error('thread pool closed'));
    await Promise.all(
      this.#slots.map(async (s) => {
        s.task?.reject(new Error('thread pool closed'));
        await s.worker.terminate();
      }),
    );
  }
}
