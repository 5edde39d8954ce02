// The built app in headless Chromium (Debian's, driven by playwright-core; `.ci/run` installs it):
// four methods on the zoo shapes model on three runtimes, with the exported maps checked against
// the library run on Node for the same input; responsiveness while Integrated Gradients runs;
// cancel; bad files; a dropped model; side-by-side comparison; offline reload.
import { existsSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { type Model, parseNpy, type Tensor } from '@xlens/core';
import { decodePng } from '@xlens/viz';
import { zooModelPath } from '@xlens/zoo';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../scripts/serve.mjs';
import { imageTensor } from '../src/images.js';
import { createRegistry } from '../src/methods.js';

/** Debian's chromium; `.ci/run` installs it. */
const CHROMIUM = process.env.XLENS_CHROMIUM ?? '/usr/bin/chromium';
const dist = join(import.meta.dirname, '..', 'dist');
const METHODS = ['saliency', 'integrated-gradients', 'grad-cam', 'lrp'] as const;
const SAMPLE = '03-star.png';
/** Relative L2 allowed between the browser's map and Node's: tighter for exact kernels. */
const tolerance = (runtime: string, method: string) =>
  method === 'integrated-gradients' || runtime === 'tfjs-webgl' ? 3e-4 : 1e-4;

let server: Server;
let url: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const problems: string[] = [];
/** Node reference maps: `[backend][method]`. */
const reference: Record<'tfjs' | 'onnx', Record<string, Tensor>> = { tfjs: {}, onnx: {} };

async function nodeReferences(): Promise<void> {
  const image = decodePng(readFileSync(join(dist, 'zoo', 'shapes', 'samples', SAMPLE)));
  const registry = createRegistry();
  const { initTfjsBackend, loadTfjsModel } = await import('@xlens/backend-tfjs');
  const { fromOnnx } = await import('@xlens/backend-onnx');
  await initTfjsBackend('wasm');
  const models: Record<'tfjs' | 'onnx', Model> = {
    tfjs: await loadTfjsModel(zooModelPath('shapes', 'tfjs')),
    onnx: await fromOnnx(zooModelPath('shapes', 'onnx')),
  };
  for (const [backend, model] of Object.entries(models) as ['tfjs' | 'onnx', Model][]) {
    const input = imageTensor(image, model.info.inputShape, model.info.layout);
    for (const m of METHODS) {
      const a = await registry.get(m).explain(model, input, 'top1', { batchSize: 16, seed: 0 });
      reference[backend][m] = a.map;
    }
    await model.dispose();
  }
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `headless Chromium not found at ${CHROMIUM}: install it with "apt-get install -y chromium" (or set XLENS_CHROMIUM)`,
    );
  }
  if (!existsSync(join(dist, 'index.html')))
    throw new Error('apps/web/dist is missing: run the build first (turbo runs it before the tests)');
  await nodeReferences();
  ({ server, url } = await serve(dist, 0));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // WebGL through SwiftShader (float textures), without the software-fallback warning.
      '--use-angle=swiftshader',
      '--enable-unsafe-swiftshader',
    ],
  });
  context = await browser.newContext({ acceptDownloads: true });
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.app === 'ready', null, { timeout: 120_000 });
});

afterAll(async () => {
  await browser?.close();
  server?.close();
});

const body = (key: string) => page.evaluate((k) => document.body.dataset[k], key);

/** Switch runtime (or model) and wait until the model and the sample image are ready. */
async function useRuntime(runtime: string): Promise<void> {
  await page.selectOption('#runtime-select', runtime);
  await page.waitForFunction(
    (r) =>
      document.body.dataset.modelState !== 'loading' &&
      document.querySelector<HTMLElement>('#model-info')?.dataset.runtime === r,
    runtime,
    { timeout: 120_000 },
  );
  expect(await body('modelState'), (await page.locator('#messages').textContent()) ?? '').toBe('ready');
  await page.click(`.sample[data-sample="${SAMPLE}"]`);
  await page.waitForFunction(
    (s) =>
      document.body.dataset.imageState === 'ready' &&
      document.querySelector('#image-name')?.textContent?.startsWith(s),
    SAMPLE,
    { timeout: 60_000 },
  );
}

async function selectMethods(ids: readonly string[]): Promise<void> {
  await page.fill('#method-filter', '');
  for (const box of await page.locator('#method-list input[type=checkbox]').all()) {
    const id = await box.getAttribute('value');
    if (ids.includes(id!) !== (await box.isChecked())) await box.click();
  }
}

/** Whether an overlay canvas shows a heat map: many colours, some of them not grey. */
async function overlayStats(card: ReturnType<Page['locator']>) {
  return card.locator('canvas.overlay').evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const colours = new Set<number>();
    let coloured = 0;
    for (let i = 0; i < d.length; i += 4) {
      colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
      if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 40) coloured++;
    }
    return { colours: colours.size, coloured, pixels: d.length / 4 };
  });
}

async function downloadNpy(card: ReturnType<Page['locator']>): Promise<Tensor> {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    card.locator('a[data-kind=npy]').click(),
  ]);
  return parseNpy(new Uint8Array(readFileSync((await download.path())!)), download.suggestedFilename());
}

function relativeL2(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  let d = 0;
  let n = 0;
  for (let i = 0; i < a.data.length; i++) {
    d += (a.data[i] - b.data[i]) ** 2;
    n += b.data[i] ** 2;
  }
  return Math.sqrt(d / n);
}

describe('the web app in headless Chromium', () => {
  const runtimes = ['tfjs-webgl', 'tfjs-wasm', 'ort-wasm'] as const;
  const measured: string[] = [];

  it('starts cross-origin isolated, offline-capable, with the zoo model loaded', async () => {
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await page.locator('#env').textContent()).toMatch(/cross-origin isolated: wasm threads on/);
    expect(await body('modelState')).toBe('ready');
    expect(await page.locator('#predictions tr').count()).toBe(5);
    expect(problems).toEqual([]);
  });

  for (const runtime of runtimes) {
    it(`${runtime}: saliency, Integrated Gradients, Grad-CAM and LRP equal the Node maps`, async () => {
      await useRuntime(runtime);
      await selectMethods(METHODS);
      await page.click('#run');
      const row = page.locator('#results .run').first();
      await page.waitForFunction(
        () => {
          const cards = [...document.querySelectorAll<HTMLElement>('#results .run:first-child .result')];
          return (
            cards.length === 4 &&
            cards.every((c) => c.dataset.status === 'done' || c.dataset.status === 'error')
          );
        },
        null,
        { timeout: 240_000 },
      );
      for (const method of METHODS) {
        const card = row.locator(`.result[data-method="${method}"]`);
        expect(await card.getAttribute('data-status'), (await card.textContent()) ?? '').toBe('done');
        const stats = await overlayStats(card);
        expect(stats.colours, `${method} overlay colours`).toBeGreaterThan(50);
        expect(stats.coloured, `${method} coloured pixels`).toBeGreaterThan(stats.pixels / 200);
        expect(await card.locator('.colorbar canvas').count()).toBe(1);
        const map = await downloadNpy(card);
        const expected = reference[runtime.startsWith('ort') ? 'onnx' : 'tfjs'][method];
        const error = relativeL2(map, expected);
        measured.push(`${runtime} ${method}: relative L2 ${error.toExponential(2)}`);
        expect(error, `${runtime} ${method}`).toBeLessThan(tolerance(runtime, method));
      }
      expect(problems).toEqual([]);
    });
  }

  it('stays responsive while Integrated Gradients runs, and cancels it', async () => {
    await useRuntime('tfjs-wasm');
    await selectMethods(['integrated-gradients']);
    await page.fill('.method-form[data-method="integrated-gradients"] input[data-option="steps"]', '3000');
    await page.click('#run');
    const card = page.locator('#results .run').first().locator('.result');
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>('#results .run .result')?.dataset.status === 'running',
      null,
      {
        timeout: 60_000,
      },
    );
    // An input event handled (the method list filtered) while the worker computes.
    const started = Date.now();
    await page.fill('#method-filter', 'cam');
    await page.waitForFunction(() => document.querySelector('#method-count')?.textContent !== '');
    const shown = await page.locator('#method-list .method:not([hidden])').count();
    const latency = Date.now() - started;
    expect(shown).toBeGreaterThan(3);
    expect(shown).toBeLessThan(20);
    expect(await card.getAttribute('data-status')).toBe('running');
    expect(latency).toBeLessThan(1000);
    const progress = await card.locator('progress').evaluate((p: HTMLProgressElement) => [p.value, p.max]);
    expect(progress[0]).toBeLessThan(progress[1]);
    await card.locator('button.cancel').click();
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>('#results .run .result')?.dataset.status === 'cancelled',
      null,
      {
        timeout: 60_000,
      },
    );
    expect(await page.locator('.message.error').count()).toBe(0);
    measured.push(`input handled in ${latency} ms while IG ran (${progress[0]}/${progress[1]})`);
    expect(problems).toEqual([]);
  });

  it('compares two methods side by side on one colour scale', async () => {
    await page.selectOption('#compare-a-method', 'saliency');
    await page.selectOption('#compare-b-method', 'integrated-gradients');
    await page.check('#compare-shared');
    await page.fill('.method-form[data-method="integrated-gradients"] input[data-option="steps"]', '16');
    await page.click('#compare');
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>('#results .run.compare')?.dataset.shared === 'true',
      null,
      {
        timeout: 120_000,
      },
    );
    const cards = page.locator('#results .run.compare .result');
    expect(await cards.count()).toBe(2);
    for (const card of await cards.all()) expect((await overlayStats(card)).colours).toBeGreaterThan(50);
    expect(problems).toEqual([]);
  });

  it('loads a dropped ONNX model and a dropped tfjs model (model.json, weights, labels)', async () => {
    const dir = join(dist, 'zoo', 'shapes');
    await page.setInputFiles('#model-file', [join(dir, 'model.onnx')]);
    await page.waitForFunction(
      () =>
        document.querySelector<HTMLElement>('#model-info')?.dataset.runtime === 'ort-wasm' &&
        document.body.dataset.modelState === 'ready',
      null,
      { timeout: 60_000 },
    );
    expect(await page.locator('#model-info').textContent()).toMatch(/^modelmodel/);
    await page.setInputFiles(
      '#model-file',
      ['model.json', 'weights.bin', 'labels.json'].map((f) => join(dir, f)),
    );
    await page.waitForFunction(
      () =>
        document.querySelector<HTMLElement>('#model-info')?.dataset.runtime === 'tfjs-wasm' &&
        document.body.dataset.modelState === 'ready',
      null,
      { timeout: 60_000 },
    );
    expect(await page.locator('#model-info').textContent()).toMatch(
      /circle, square, triangle, star, cross, ring/,
    );
    await page.waitForFunction(() => document.body.dataset.imageState === 'ready');
    expect(await page.locator('#predictions tr').first().textContent()).toMatch(/^star/);
    expect(problems).toEqual([]);
  });

  it('shows a clear message for a non-model, a corrupt ONNX file and a PNG declaring 20000×20000 pixels', async () => {
    const messages = () => page.locator('.message.error').allInnerTexts();
    await page.setInputFiles('#model-file', [
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') },
    ]);
    await page.waitForFunction(() => document.querySelectorAll('.message.error').length >= 1);
    expect((await messages()).at(-1)).toMatch(
      /notes\.txt is not a model this page reads: drop one \.onnx file, or a tfjs model\.json/,
    );

    const noise = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251));
    await page.setInputFiles('#model-file', [
      { name: 'broken.onnx', mimeType: 'application/octet-stream', buffer: noise },
    ]);
    await page.waitForFunction(() => document.querySelectorAll('.message.error').length >= 2, null, {
      timeout: 60_000,
    });
    expect((await messages()).at(-1)).toMatch(/Model: not a valid ONNX model/);
    expect(await body('modelState')).toBe('error');

    // A working model again, then an image whose header declares 20000×20000 pixels.
    await page.selectOption('#zoo-select', 'shapes');
    await page.waitForFunction(
      () => document.body.dataset.modelState === 'ready' && document.body.dataset.imageState === 'ready',
      null,
      { timeout: 60_000 },
    );
    await page.setInputFiles('#image-file', [
      { name: 'huge.png', mimeType: 'image/png', buffer: hugePng(20000, 20000) },
    ]);
    await page.waitForFunction(() => document.querySelectorAll('.message.error').length >= 3, null, {
      timeout: 60_000,
    });
    expect((await messages()).at(-1)).toMatch(
      /huge\.png declares 20000×20000 pixels; images up to 8192×8192/,
    );
    // The page still works: the previous image stays and can be explained.
    expect(await body('imageState')).toBe('ready');
    expect(problems).toEqual([]);
  });

  it('works offline once loaded', async () => {
    await page.waitForFunction(async () => !!(await navigator.serviceWorker.ready).active, null, {
      timeout: 60_000,
    });
    await page.waitForFunction(async () => (await caches.keys()).some((k) => k.startsWith('xlens-')));
    await context.setOffline(true);
    try {
      await page.reload();
      await page.waitForFunction(
        () => document.body.dataset.app === 'ready' && document.body.dataset.imageState === 'ready',
        null,
        { timeout: 120_000 },
      );
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      await useRuntime('ort-wasm');
      await selectMethods(['saliency']);
      await page.click('#run');
      await page.waitForFunction(
        () => document.querySelector<HTMLElement>('#results .run .result')?.dataset.status === 'done',
        null,
        { timeout: 60_000 },
      );
    } finally {
      await context.setOffline(false);
    }
    expect(problems).toEqual([]);
    process.stdout.write(`${measured.join('\n')}\n`);
  });
});

/** A PNG whose header declares `width`×`height` (only a few bytes of pixel data follow). */
function hugePng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1024))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
