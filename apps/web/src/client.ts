import type { Request, Response } from './protocol.js';

type Pending = {
  resolve: (r: Response) => void;
  reject: (e: WorkerError) => void;
  onProgress?: (done: number, total: number) => void;
};

/** An error answered by the worker, with its xlens code (`aborted` for a cancelled run). */
export class WorkerError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Distributes a request type over its union members, so `id` can be left out per member. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/** The page's side of the worker: requests as promises, progress as callbacks. */
export class WorkerClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly worker: Worker,
    onCrash: (message: string) => void,
  ) {
    worker.onmessage = (event: MessageEvent<Response>) => {
      const r = event.data;
      const p = this.pending.get(r.id);
      if (!p) return;
      if (r.type === 'progress') {
        p.onProgress?.(r.done, r.total);
        return;
      }
      this.pending.delete(r.id);
      if (r.type === 'error') p.reject(new WorkerError(r.message, r.code));
      else p.resolve(r);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      onCrash(event.message || 'the worker stopped');
      for (const p of this.pending.values()) p.reject(new WorkerError(event.message || 'the worker stopped'));
      this.pending.clear();
    };
  }

  /** Send a request; `transfer` lists buffers handed over. Returns its id and the answer. */
  send<T extends Response['type']>(
    request: WithoutId<Request>,
    options: { transfer?: Transferable[]; onProgress?: (done: number, total: number) => void } = {},
  ): { id: number; done: Promise<Extract<Response, { type: T }>> } {
    const id = this.nextId++;
    const done = new Promise<Response>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress: options.onProgress });
    }) as Promise<Extract<Response, { type: T }>>;
    this.worker.postMessage({ ...request, id } as Request, options.transfer ?? []);
    return { id, done };
  }

  /** Cancel a queued or running explanation. */
  cancel(id: number): void {
    this.worker.postMessage({ type: 'cancel', id } satisfies Request);
  }
}
