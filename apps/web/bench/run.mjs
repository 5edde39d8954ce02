// Time per method in the browser (the built app in headless Chromium, driven like a user) and in
// Node (the same library calls), same model (zoo shapes), same input (sample 03-star.png), default
// options. Each runtime runs every method once to warm up, then `runs` times; the median of the
// method's own timing (Attribution.timing) is reported. Prints a markdown table.
// Needs a build (`pnpm --filter @xlens/web build`) and Debian's chromium.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromOnnx } from '@xlens/backend-onnx';
import { initTfjsBackend, loadTfjsModel } from '@xlens/backend-tfjs';
import { camMethods } from '@xlens/cam';
import { Registry } from '@xlens/core';
import { gradientMethods } from '@xlens/gradients';
import { relevanceMethods } from '@xlens/relevance';
import { decodePng } from '@xlens/viz';
import { zooModelPath } from '@xlens/zoo';
import { chromium } from 'playwright-core';
import { serve } from '../scripts/serve.mjs';

const app = fileURLToPath(new URL('..', import.meta.url));
const dist = join(app, 'dist');
const methods = ['saliency', 'integrated-gradients', 'grad-cam', 'lrp'];
const runs = Number(process.env.XLENS_BENCH_RUNS ?? 3);
const sample = '03-star.png';
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** NHWC [0, 1] input from the sample PNG, as the app builds it for the shapes model. */
function input() {
  const img = decodePng(readFileSync(join(dist, 'zoo', 'shapes', 'samples', sample)));
  const data = new Float32Array(img.width * img.height * 3);
  for (let p = 0; p < img.width * img.height; p++)
    for (let c = 0; c < 3; c++) data[p * 3 + c] = img.data[p * 4 + c] / 255;
  return { data, shape: [1, img.height, img.width, 3] };
}

async function nodeTimes() {
  const registry = new Registry([...gradientMethods, ...camMethods, ...relevanceMethods]);
  await initTfjsBackend('wasm');
  const x = input();
  const out = {};
  for (const [name, load] of [
    ['Node · tfjs wasm', () => loadTfjsModel(zooModelPath('shapes', 'tfjs'))],
    ['Node · onnxruntime-node', () => fromOnnx(zooModelPath('shapes', 'onnx'))],
  ]) {
    const model = await load();
    out[name] = {};
    for (const m of methods) {
      const times = [];
      for (let r = 0; r <= runs; r++) {
        const a = await registry.get(m).explain(model, x, 'top1', { batchSize: 16 });
        if (r > 0) times.push(a.timing.milliseconds);
      }
      out[name][m] = median(times);
    }
    await model.dispose();
  }
  return out;
}

async function browserTimes() {
  const { server, url } = await serve(dist, 0);
  const browser = await chromium.launch({
    executablePath: process.env.XLENS_CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-angle=swiftshader',
      '--enable-unsafe-swiftshader',
    ],
  });
  const out = {};
  try {
    const page = await browser.newPage();
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.app === 'ready', null, { timeout: 120_000 });
    for (const box of await page.locator('#method-list input[type=checkbox]').all())
      if (methods.includes(await box.getAttribute('value')) !== (await box.isChecked())) await box.click();
    for (const [runtime, title] of [
      ['tfjs-webgl', 'Chromium · tfjs WebGL (SwiftShader)'],
      ['tfjs-wasm', 'Chromium · tfjs wasm'],
      ['ort-wasm', 'Chromium · onnxruntime-web wasm'],
    ]) {
      await page.selectOption('#runtime-select', runtime);
      await page.waitForFunction(
        (r) =>
          document.querySelector('#model-info')?.dataset.runtime === r &&
          document.body.dataset.modelState === 'ready',
        runtime,
        { timeout: 120_000 },
      );
      await page.click(`.sample[data-sample="${sample}"]`);
      await page.waitForFunction(
        (s) =>
          document.body.dataset.imageState === 'ready' &&
          document.querySelector('#image-name')?.textContent?.startsWith(s),
        sample,
      );
      const times = Object.fromEntries(methods.map((m) => [m, []]));
      for (let r = 0; r <= runs; r++) {
        await page.click('#run');
        await page.waitForFunction(
          (n) => {
            const cards = [...document.querySelectorAll('#results .run:first-child .result')];
            return cards.length === n && cards.every((c) => c.dataset.status === 'done');
          },
          methods.length,
          { timeout: 600_000 },
        );
        if (r === 0) continue;
        for (const m of methods) {
          const ms = await page
            .locator(`#results .run:first-child .result[data-method="${m}"] .status`)
            .getAttribute('data-milliseconds');
          times[m].push(Number(ms));
        }
      }
      out[title] = Object.fromEntries(methods.map((m) => [m, median(times[m])]));
    }
  } finally {
    await browser.close();
    server.close();
  }
  return out;
}

const rows = { ...(await nodeTimes()), ...(await browserTimes()) };
const fmt = (v) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
console.log(
  `zoo shapes model (64×64×3, 6 classes), sample ${sample}, default options, median of ${runs} warm runs, ms`,
);
console.log(
  `${new Date().toISOString().slice(0, 10)}, ${process.platform} ${process.arch}, Node ${process.version}\n`,
);
console.log(`| runtime | ${methods.join(' | ')} |`);
console.log(`|---|${methods.map(() => '---:').join('|')}|`);
for (const [name, t] of Object.entries(rows))
  console.log(`| ${name} | ${methods.map((m) => fmt(t[m])).join(' | ')} |`);
