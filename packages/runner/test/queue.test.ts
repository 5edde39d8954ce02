import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEmbedded } from '../src/embedded.js';
import type { EvaluationPlan } from '../src/plan.js';
import { runOnQueue } from '../src/queue.js';
import { exportsOf, freshStore, tinyPlan } from './fixtures.js';
import { type RedisServer, startRedis } from './redis.js';

const script = fileURLToPath(new URL('./worker-process.mjs', import.meta.url));
// Short locks so that a killed worker's unit comes back within seconds.
const lockMs = 1500;
const stallMs = 1000;

interface WorkerProcess {
  readonly child: ChildProcess;
  /** Unit keys this worker has started. */
  readonly started: string[];
  /** Resolves on the first unit start. */
  readonly firstStart: Promise<void>;
}

function startWorker(url: string, name: string): WorkerProcess {
  const child = spawn(process.execPath, [script, url, name, '1', String(lockMs), String(stallMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const started: string[] = [];
  let onStart: () => void = () => undefined;
  const firstStart = new Promise<void>((r) => {
    onStart = r;
  });
  let buffer = '';
  child.stdout?.on('data', (d: Buffer) => {
    buffer += d.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      const [type, key] = line.split(' ');
      if (type === 'start') {
        started.push(key);
        onStart();
      }
    }
  });
  return { child, started, firstStart };
}

async function stop(w: WorkerProcess): Promise<void> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  const exited = new Promise((r) => w.child.once('exit', r));
  w.child.kill('SIGTERM');
  await exited;
}

describe('runOnQueue with worker processes', () => {
  let redis: RedisServer;
  let plan: EvaluationPlan;
  let reference: { csv: string; jsonl: string };

  beforeAll(async () => {
    redis = await startRedis();
    plan = await tinyPlan();
    const store = freshStore();
    const s = await runEmbedded(plan, store, { threads: 1 });
    reference = exportsOf(store, s.run);
    store.close();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('gives the embedded results byte for byte with 2 workers in separate processes', async () => {
    const workers = [startWorker(redis.url, 'two'), startWorker(redis.url, 'two')];
    const store = freshStore();
    try {
      const s = await runOnQueue(plan, store, { url: redis.url, name: 'two', pollMilliseconds: 100 });
      expect([s.units, s.computed, s.duplicates, s.unfinished.length]).toEqual([4, 4, 0, 0]);
      expect(exportsOf(store, s.run)).toEqual(reference);
      expect(workers.reduce((n, w) => n + w.started.length, 0)).toBeGreaterThanOrEqual(4);
    } finally {
      await Promise.all(workers.map(stop));
      store.close();
    }
  });

  it('retries the unit of a worker killed with SIGKILL mid-unit: nothing lost or counted twice', async () => {
    const store = freshStore();
    const doomed = startWorker(redis.url, 'kill');
    let survivor: WorkerProcess | undefined;
    try {
      const running = runOnQueue(plan, store, { url: redis.url, name: 'kill', pollMilliseconds: 100 });
      await doomed.firstStart;
      // The unit is running (its thread is still loading the model): kill the whole process now.
      const killedKey = doomed.started[0];
      doomed.child.kill('SIGKILL');
      await new Promise((r) => doomed.child.once('exit', r));
      survivor = startWorker(redis.url, 'kill');
      const s = await running;
      expect([s.units, s.unfinished.length]).toEqual([4, 0]);
      expect(store.finishedKeys(s.run).size).toBe(4);
      expect(survivor.started).toContain(killedKey);
      expect(store.progress(s.run).retried).toBeGreaterThanOrEqual(1);
      expect([...store.scores(s.run)]).toHaveLength(16);
      expect(exportsOf(store, s.run)).toEqual(reference);
    } finally {
      if (survivor) await stop(survivor);
      store.close();
    }
  });
});
