// Before/after benchmark of every method of the gradients, cam and relevance families, in one run:
// two built checkouts (e.g. the previous commit in a git worktree, and this one) are measured in
// alternating child processes, each method as a multiple of one forward pass of the same model and
// batch (the fastest of several runs each), on the tfjs wasm backend. Each checkout runs `rounds` times, so the spread of a checkout
// against itself is the run-to-run noise that a before/after difference must exceed.
//
//   git worktree add ../before HEAD~1 && (cd ../before && pnpm install && pnpm build)
//   node scripts/bench-compare.mjs ../before . [rounds=2]
//
// Child mode (internal): node scripts/bench-compare.mjs --child <root>
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const size = 64;
const batch = 4;
const batchSize = 16;

/** Options keeping each method near a few dozen passes (only options both trees know). */
const optionsById = {
  'integrated-gradients': { steps: 32 },
  smoothgrad: { samples: 16 },
  vargrad: { samples: 16 },
  noisegrad: { models: 8 },
  fusiongrad: { models: 4, samples: 4 },
  'smooth-grad-cam-plus-plus': { samples: 8 },
};

async function child(root) {
  const at = (p) => import(pathToFileURL(resolve(root, p)).href);
  const { fromTfjs, initTfjsBackend } = await at('packages/backend-tfjs/dist/index.js');
  const { buildSmallCnn } = await at('packages/backend-tfjs/dist/testing/index.js');
  const { Registry } = await at('packages/core/dist/index.js');
  const families = await Promise.all([
    at('packages/gradients/dist/index.js').then((m) => m.gradientMethods),
    at('packages/cam/dist/index.js').then((m) => m.camMethods),
    at('packages/relevance/dist/index.js').then((m) => m.relevanceMethods),
  ]);
  await initTfjsBackend('wasm');
  const methods = families.flat();
  const registry = new Registry(methods);
  const model = fromTfjs(buildSmallCnn({ inputSize: size }), { inputRange: [0, 1] });
  const x = { data: new Float32Array(batch * size * size * 3), shape: [batch, size, size, 3] };
  let s = 12345;
  for (let i = 0; i < x.data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    x.data[i] = s / 2 ** 32;
  }
  // The fastest of several runs: on a shared machine, load only ever adds time, so the minimum is
  // the most repeatable estimate of the work itself.
  const time = async (fn, repeats) => {
    await fn();
    let best = Number.POSITIVE_INFINITY;
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      await fn();
      best = Math.min(best, performance.now() - t0);
    }
    return best;
  };
  const out = {};
  for (const m of methods) {
    try {
      const options = { ...(optionsById[m.id] ?? {}), batchSize, registry };
      // The forward is re-timed next to each method so that load changes on a shared machine
      // move both sides of the ratio.
      const forward = await time(() => model.forward(x), 9);
      out[m.id] = (await time(() => m.explain(model, x, 0, options), 4)) / forward;
    } catch (error) {
      out[m.id] = `error: ${error.message.split('\n')[0]}`;
    }
  }
  await model.dispose();
  process.stdout.write(JSON.stringify(out));
}

function main([before, after, rounds = '2']) {
  if (!before || !after)
    throw new Error('usage: node scripts/bench-compare.mjs <before-root> <after-root> [rounds]');
  const runs = { before: [], after: [] };
  for (let r = 0; r < Number(rounds); r++) {
    for (const [name, root] of [
      ['before', before],
      ['after', after],
    ]) {
      const json = execFileSync(process.execPath, [import.meta.filename, '--child', resolve(root)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 1 << 24,
      });
      runs[name].push(JSON.parse(json));
      process.stderr.write(`round ${r + 1}: ${name} done\n`);
    }
  }
  const ids = [...new Set([...Object.keys(runs.before[0]), ...Object.keys(runs.after[0])])];
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const lines = [
    `tfjs wasm, small CNN ${size}², batch ${batch}, batchSize ${batchSize}; fastest of 4 runs ÷ fastest of 9 forwards; ${rounds} alternating rounds per checkout; noise = spread of a checkout's rounds`,
    '',
    '| method | before | after | after ÷ before | noise (before) | noise (after) |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  const spread = (xs) => (Math.max(...xs) - Math.min(...xs)) / Math.min(...xs);
  for (const id of ids) {
    const b = runs.before.map((r) => r[id]).filter((v) => typeof v === 'number');
    const a = runs.after.map((r) => r[id]).filter((v) => typeof v === 'number');
    if (b.length === 0 || a.length === 0) {
      const show = (v) => (typeof v === 'number' ? v.toFixed(1) : (v ?? '—'));
      lines.push(`| ${id} | ${show(runs.before[0][id])} | ${show(runs.after[0][id])} | | | |`);
      continue;
    }
    const mb = median(b);
    const ma = median(a);
    lines.push(
      `| ${id} | ${mb.toFixed(1)} | ${ma.toFixed(1)} | ${(ma / mb).toFixed(2)} | ${(100 * spread(b)).toFixed(0)}% | ${(100 * spread(a)).toFixed(0)}% |`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[2] === '--child') await child(process.argv[3]);
else main(process.argv.slice(2));
