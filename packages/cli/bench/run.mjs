// Benchmark of what `xlens explain` runs by default: each default method's time as a multiple of
// one forward pass of the same model and batch (the bundled shapes model and its 6 sample images,
// tfjs WASM backend), plus the cost of rendering and writing the report. Run after building:
// `pnpm --filter @xlens/cli bench`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initTfjsBackend, loadTfjsModel } from '@xlens/backend-tfjs';
import { sampleImages, zooModel } from '@xlens/zoo';
import { markdownTable, ratioTable } from '../../../scripts/bench-util.mjs';
import { createRegistry, defaultMethodIds, main, parseMethodSpec } from '../dist/index.js';

await initTfjsBackend('wasm');
const zoo = zooModel('shapes');
const model = await loadTfjsModel(zoo.tfjs, { labels: zoo.labels, inputRange: zoo.meta.inputRange });
const x = sampleImages('shapes', 6).images;
const registry = createRegistry();
const methods = defaultMethodIds
  .filter((spec) => registry.has(spec.split(':')[0]))
  .map((spec) => ({ ...parseMethodSpec(spec, registry), spec }));
const rows = await ratioTable(
  () => model.forward(x),
  methods.map(({ explainer: m, options, spec }) => {
    // Sample-based methods take seconds: one timed run; the rest get a warm-up and three runs.
    const heavy = ['integrated-gradients', 'smoothgrad', 'score-cam', 'occlusion', 'rise'].includes(m.id);
    return {
      name: spec,
      run: () => m.explain(model, x, 'top1', { ...options, registry }),
      warmup: heavy ? 0 : 1,
      repeats: heavy ? 1 : 3,
    };
  }),
);
// The whole command, in-process: load, predict, all default methods, render and write the report.
const dir = await mkdtemp(join(tmpdir(), 'xlens-bench-'));
const quiet = { write: () => true };
const whole = await ratioTable(
  () => model.forward(x),
  [
    {
      name: 'xlens explain (all of it)',
      run: () => main(['explain', '--out', join(dir, 'r'), '-q'], { stdout: quiet, stderr: quiet }),
      warmup: 0,
      repeats: 1,
    },
  ],
);
await rm(dir, { recursive: true, force: true });
await model.dispose();
console.log(markdownTable([{ title: 'shapes, 6 images 64×64, tfjs-wasm', rows: [...rows, whole[1]] }]));
