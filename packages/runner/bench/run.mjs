// Benchmark of @xlens/runner on this machine: items per second of a fixed method × metric set on
// the zoo shapes data set, (a) in one process without the engine, (b) embedded with 1 and 2 worker
// threads, (c) on a BullMQ queue (a throwaway redis-server) with 2 worker processes of 1 thread,
// and (d) the queue's overhead per unit (see below), as a fraction of a unit's compute time. Run after building: `pnpm --filter @xlens/runner bench`.
// Options: --items N (default 200), --unit-size N (default 50).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SAMPLE_SEED, shapesDataset } from '@xlens/zoo';
import {
  loadRunnerModel,
  makePlan,
  ResultStore,
  runEmbedded,
  runnerMetricRegistry,
  runnerRegistry,
  runOnQueue,
} from '../dist/index.js';

const markdownTable = (head, body) =>
  [
    `| ${head.join(' | ')} |`,
    `|---|${head
      .slice(1)
      .map(() => '---:')
      .join('|')}|`,
    ...body.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const items = arg('items', 200);
const unitSize = arg('unit-size', 50);
const methods = [{ key: 'saliency', id: 'saliency', options: {} }];
const metrics = [
  { id: 'pointing-game', options: {} },
  { id: 'deletion', options: { steps: 16 } },
];
const plan = await makePlan({
  model: { ref: 'shapes' },
  dataset: { kind: 'zoo', name: 'shapes', count: items },
  methods,
  metrics,
  seed: 0,
  target: 'top1',
  unitSize,
});
const tmp = mkdtempSync(join(tmpdir(), 'xlens-runner-bench-'));
let stores = 0;
const freshStore = () => ResultStore.open(join(tmp, `r${stores++}.sqlite`));

async function timed(fn) {
  const t0 = performance.now();
  const out = await fn();
  return { ms: performance.now() - t0, out };
}

// (a) In one process, no engine: the same work on the same unit ranges.
const model = await loadRunnerModel({ ref: 'shapes' });
const registry = runnerRegistry();
const metricRegistry = runnerMetricRegistry();
const inProcess = await timed(async () => {
  for (let start = 0; start < items; start += unitSize) {
    const count = Math.min(unitSize, items - start);
    const { images: x, masks } = shapesDataset({ count, seed: SAMPLE_SEED, start });
    for (const m of methods) {
      const maps = (await registry.get(m.id).explain(model.model, x, 'top1', { seed: 0 })).map;
      for (const metric of metrics)
        await metricRegistry.get(metric.id).evaluate(
          { model: model.model, input: x, target: 'top1', maps, masks },
          {
            ...metric.options,
            seed: 0,
          },
        );
    }
  }
});
await model.model.dispose();

// Redis and worker processes for the queue runs.
const port = await new Promise((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const p = server.address().port;
    server.close(() => resolve(p));
  });
});
const redisDir = mkdtempSync(join(tmpdir(), 'xlens-bench-redis-'));
const redis = spawn(
  'redis-server',
  ['--port', String(port), '--bind', '127.0.0.1', '--dir', redisDir, '--save', '', '--appendonly', 'no'],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
await new Promise((resolve) => {
  let out = '';
  redis.stdout.on('data', (d) => {
    out += d;
    if (/Ready to accept connections/.test(out)) resolve();
  });
});
const url = `redis://127.0.0.1:${port}`;
const workerScript = fileURLToPath(new URL('../test/worker-process.mjs', import.meta.url));
async function withWorkers(n, name, fn) {
  const workers = Array.from({ length: n }, () =>
    spawn(process.execPath, [workerScript, url, name, '1', '10000', '5000'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  await Promise.all(workers.map((w) => new Promise((resolve) => w.stdout.once('data', resolve))));
  try {
    return await fn();
  } finally {
    await Promise.all(
      workers.map((w) => {
        const exited = new Promise((resolve) => w.once('exit', resolve));
        w.kill('SIGTERM');
        return exited;
      }),
    );
  }
}

const rows = [];
const record = (name, ms) => rows.push({ name, ms });
record('in one process, no engine', inProcess.ms);
const embedded = async (threads) => {
  const store = freshStore();
  const r = await timed(() => runEmbedded(plan, store, { threads }));
  const compute = store.computeMilliseconds(r.out.run);
  store.close();
  return { ms: r.ms, compute, units: r.out.units };
};
const queued = async (workers, name) => {
  const store = freshStore();
  const r = await withWorkers(workers, name, () =>
    timed(() => runOnQueue(plan, store, { url, name, pollMilliseconds: 50 })),
  );
  const compute = store.computeMilliseconds(r.out.run);
  store.close();
  return { ms: r.ms, compute, units: r.out.units };
};
const e1 = await embedded(1);
record('embedded, 1 thread', e1.ms);
const e2 = await embedded(2);
record('embedded, 2 threads', e2.ms);
const q2 = await queued(2, 'bench-2');
record('queue, 2 worker processes × 1 thread', q2.ms);
// Overhead: many cheap units (600 items, saliency × sparseness, units of 10 items). In each run,
// the engine's cost per unit is (wall time − the units' compute time measured in their threads) ÷
// units, so that the compute, which varies with the machine's load, cancels; the queue's overhead
// is that of a queue run with 1 worker of 1 thread minus that of an embedded run with 1 thread
// (medians of 2 alternating runs each).
const cheapPlan = await makePlan({
  ...plan,
  dataset: { kind: 'zoo', name: 'shapes', count: 600 },
  metrics: [{ id: 'sparseness', options: {} }],
  unitSize: 10,
});
const engineCost = (r, store) => (r.ms - store.computeMilliseconds(r.out.run)) / r.out.units;
const cheapEmbedded = async () => {
  const store = freshStore();
  const r = await timed(() => runEmbedded(cheapPlan, store, { threads: 1 }));
  const cost = engineCost(r, store);
  store.close();
  return { ms: r.ms, cost, units: r.out.units };
};
const cheapQueued = async (name) => {
  const store = freshStore();
  const r = await withWorkers(1, name, () =>
    timed(() => runOnQueue(cheapPlan, store, { url, name, pollMilliseconds: 50 })),
  );
  const cost = engineCost(r, store);
  store.close();
  return { ms: r.ms, cost, units: r.out.units };
};
const q1s = [];
const e1s = [];
for (let r = 0; r < 2; r++) {
  q1s.push(await cheapQueued(`bench-1-${r}`));
  e1s.push(await cheapEmbedded());
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const units = e1.units;
const unitCompute = e1.compute / e1.units;
const cheapUnits = e1s[0].units;
const queueCost = median(q1s.map((q) => q.cost));
const embeddedCost = median(e1s.map((e) => e.cost));
const overhead = queueCost - embeddedCost;

redis.kill('SIGTERM');
rmSync(tmp, { recursive: true, force: true });
rmSync(redisDir, { recursive: true, force: true });

const base = inProcess.ms;
console.log(
  `\n@xlens/runner: ${items} shapes items, ${methods.map((m) => m.id).join(', ')} × ${metrics.map((m) => `${m.id}${m.options.steps ? `:steps=${m.options.steps}` : ''}`).join(', ')}, units of ${unitSize} items (${units} units), tfjs-wasm\n`,
);
console.log(
  markdownTable(
    ['run', 'wall time (s)', 'items / s', 'speed vs. one process'],
    rows.map((r) => [
      r.name,
      (r.ms / 1000).toFixed(1),
      (items / (r.ms / 1000)).toFixed(1),
      `${(base / r.ms).toFixed(2)}×`,
    ]),
  ),
);
console.log(
  `\nqueue overhead per unit: ${overhead.toFixed(1)} ms (${cheapUnits} cheap units; wall time not spent computing, per unit: queue with 1 worker ${queueCost.toFixed(1)} ms, embedded with 1 thread ${embeddedCost.toFixed(1)} ms, medians) = ${((100 * overhead) / unitCompute).toFixed(2)}% of the ${unitCompute.toFixed(0)} ms a ${unitSize}-item unit of the set above computes\nload average during the run: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(', ')} on ${availableParallelism()} cores`,
);
