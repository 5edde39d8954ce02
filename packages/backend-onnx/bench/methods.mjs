// Per-method cost on the torchvision-layout models (bench/torchvision.mjs): each method's warm time
// as a multiple of one forward pass of the same model and batch measured around it (see
// `measureModel`), the median of 5 such ratios (3 for IG and SmoothGrad) after one warm-up call, and the
// cold first call — a fresh process timed from `fromOnnx(path)` to its first map, with the session
// cache filled — next to the forward-only load (fresh process, `fromOnnx(path)` to the first
// forward). Batch 1, 224², 2 intra-op threads. Needs the method packages built
// (`pnpm exec turbo run build --filter=@xlens/backend-onnx... --filter=@xlens/gradients...`).
//
//   node bench/methods.mjs [models=resnet18,mobilenet_v2,densenet121] [--no-cold]
//   node bench/methods.mjs --json …   (machine-readable, used by bench/reference.py's table)
//
// Child mode (internal): node bench/methods.mjs --cold <model.onnx> <method|forward> <cacheDir>
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const threads = 2;
const size = 224;
const target = 3;

/** The methods measured and their options (IG-50 and SmoothGrad-25 as in the issue). */
export const benchMethods = [
  ['saliency', {}],
  ['gradient-x-input', {}],
  ['integrated-gradients', { steps: 50 }],
  ['smoothgrad', { samples: 25 }],
  ['guided-backprop', {}],
  ['grad-cam', {}],
  ['grad-cam-plus-plus', {}],
  ['lrp', {}],
];

async function loadMethods() {
  const at = (p) => import(new URL(p, import.meta.url).href);
  const [{ Registry }, g, c, r] = await Promise.all([
    at('../../core/dist/index.js'),
    at('../../gradients/dist/index.js'),
    at('../../cam/dist/index.js'),
    at('../../relevance/dist/index.js'),
  ]);
  const all = [...g.gradientMethods, ...c.camMethods, ...r.relevanceMethods];
  const registry = new Registry(all);
  return { registry, byId: new Map(all.map((m) => [m.id, m])) };
}

function input() {
  const data = new Float32Array(3 * size * size);
  let s = 7;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = (s / 2 ** 32) * 4 - 2;
  }
  return { data, shape: [1, 3, size, size] };
}

/** Times of `repeats` runs of `fn`, in ms. */
async function times(fn, repeats) {
  const out = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

const fastest = (values) => Math.min(...values);
const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;

async function child(path, what, cacheDir) {
  const { fromOnnx } = await import('../dist/index.js');
  const { sessionCache } = await import('../dist/node/index.js');
  const { registry, byId } = what === 'forward' ? {} : await loadMethods();
  const x = input();
  const t0 = performance.now();
  const model = await fromOnnx(path, {
    intraOpThreads: threads,
    ...(cacheDir === '-' ? {} : { cache: sessionCache(cacheDir) }),
  });
  const loaded = performance.now();
  if (what === 'forward') await model.forward(x);
  else await byId.get(what).explain(model, x, target, { ...optionsOf(what), registry });
  const ms = performance.now() - t0;
  await model.dispose();
  process.stdout.write(JSON.stringify({ ms, load: loaded - t0 }));
}

function optionsOf(id) {
  return benchMethods.find(([m]) => m === id)?.[1] ?? {};
}

function coldRun(path, what, cacheDir) {
  const out = execFileSync(
    process.execPath,
    [fileURLToPath(import.meta.url), '--cold', path, what, cacheDir],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return JSON.parse(out);
}

/** Warm ratios of every method on one model, and the cold first calls when `cold` is set. */
export async function measureModel(name, bytes, { cold = true, log = () => {} } = {}) {
  const { fromOnnx } = await import('../dist/index.js');
  const { registry, byId } = await loadMethods();
  const model = await fromOnnx(bytes, { name, intraOpThreads: threads });
  const x = input();
  let forward = Number.POSITIVE_INFINITY;
  const rows = [];
  for (const [id, options] of benchMethods) {
    const heavy = id === 'integrated-gradients' || id === 'smoothgrad';
    // Each measurement compares like with like, between forward runs taken just before and just
    // after it (the machine's speed drifts over seconds when it is shared): a single-pass method
    // is the fastest of 3 runs against the fastest of 3 forward runs just before and of 3 just
    // after it (their mean: equal samples on both sides of the ratio); IG and
    // SmoothGrad, whose one run spans 25–50 passes, are one run against the mean of the forward
    // runs around it. The ratio reported is the median over 5 measurements (3 for IG and
    // SmoothGrad).
    const run = () => byId.get(id).explain(model, x, target, { ...options, registry });
    await run();
    await times(() => model.forward(x), 2);
    let before = await times(() => model.forward(x), heavy ? 5 : 3);
    const runs = [];
    for (let r = 0; r < (heavy ? 3 : 5); r++) {
      const ms = fastest(await times(run, heavy ? 1 : 3));
      const after = await times(() => model.forward(x), heavy ? 5 : 3);
      const fwd = heavy ? mean([...before, ...after]) : mean([fastest(before), fastest(after)]);
      runs.push({ ratio: ms / fwd, ms, fwd });
      forward = Math.min(forward, ...before, ...after);
      before = after;
    }
    const median = runs.sort((a, b) => a.ratio - b.ratio)[runs.length >> 1];
    rows.push({ id, ms: median.ms, ratio: median.ratio });
    log(
      `${name} ${id}: ${median.ratio.toFixed(2)}× (${median.ms.toFixed(0)} ms, forward ${median.fwd.toFixed(1)} ms)`,
    );
  }
  await model.dispose();
  const result = { name, forward, rows };
  if (cold) {
    const dir = mkdtempSync(join(tmpdir(), 'xlens-bench-'));
    try {
      const path = join(dir, `${name}.onnx`);
      writeFileSync(path, bytes);
      const cache = join(dir, 'cache');
      mkdirSync(cache);
      // Fastest of two fresh processes each: load only adds time on a shared machine.
      const best = (what, cacheDir) => {
        const [a, b] = [coldRun(path, what, cacheDir), coldRun(path, what, cacheDir)];
        return a.ms <= b.ms ? a : b;
      };
      result.forwardLoad = best('forward', '-').ms;
      result.cold = {};
      for (const id of ['saliency', 'grad-cam', 'lrp']) {
        coldRun(path, id, cache); // fills the cache
        const cached = best(id, cache);
        result.cold[id] = {
          cached: cached.ms,
          firstCall: cached.ms - cached.load,
          uncached: coldRun(path, id, '-').ms,
        };
        log(
          `${name} cold ${id}: ${result.cold[id].cached.toFixed(0)} ms cached, ${result.cold[id].uncached.toFixed(0)} ms uncached (forward-only load ${result.forwardLoad.toFixed(0)} ms)`,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return result;
}

/** Markdown: one warm-ratio column per model, then the cold table. */
export function methodsTables(results) {
  const head = `| method | ${results.map((r) => `${r.name} (forward ${r.forward.toFixed(0)} ms)`).join(' | ')} |`;
  const lines = [head, `|---|${results.map(() => '---:').join('|')}|`];
  for (const [id] of benchMethods) {
    lines.push(
      `| ${id} | ${results.map((r) => `${r.rows.find((x) => x.id === id).ratio.toFixed(2)}×`).join(' | ')} |`,
    );
  }
  const cold = results.filter((r) => r.cold);
  if (cold.length) {
    lines.push(
      '',
      '| model | method | forward-only load | cold, cached | of which the first call | cold, no cache | warm | budget: load + 3× warm |',
    );
    lines.push('|---|---|---:|---:|---:|---:|---:|---:|');
    for (const r of cold) {
      for (const [id, c] of Object.entries(r.cold)) {
        const warm = r.rows.find((x) => x.id === id).ms;
        lines.push(
          `| ${r.name} | ${id} | ${r.forwardLoad.toFixed(0)} ms | ${c.cached.toFixed(0)} ms | ${c.firstCall.toFixed(0)} ms | ${c.uncached.toFixed(0)} ms | ${warm.toFixed(0)} ms | ${(r.forwardLoad + 3 * warm).toFixed(0)} ms |`,
        );
      }
    }
  }
  return lines.join('\n');
}

async function main(args) {
  if (args[0] === '--cold') return child(args[1], args[2], args[3]);
  const { torchvisionModels } = await import('./torchvision.mjs');
  const names = (args.find((a) => !a.startsWith('--')) ?? Object.keys(torchvisionModels).join(',')).split(
    ',',
  );
  const results = [];
  for (const name of names) {
    results.push(
      await measureModel(name, torchvisionModels[name](size), {
        cold: !args.includes('--no-cold'),
        log: (line) => console.error(line),
      }),
    );
  }
  if (args.includes('--json')) console.log(JSON.stringify(results));
  else console.log(methodsTables(results));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
