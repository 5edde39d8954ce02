// Writes docs/screenshot.png (shown in the root README): the built app in headless Chromium with
// four methods on the shapes model on onnxruntime-web, and Grad-CAM for two classes side by side.
// `node scripts/screenshot.mjs` after a build.
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from './serve.mjs';

const app = fileURLToPath(new URL('..', import.meta.url));
const { server, url } = await serve(`${app}dist`, 0);
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
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.app === 'ready', null, { timeout: 120_000 });
  await page.selectOption('#runtime-select', 'ort-wasm');
  await page.waitForFunction(
    () =>
      document.querySelector('#model-info')?.dataset.runtime === 'ort-wasm' &&
      document.body.dataset.modelState === 'ready',
    null,
    { timeout: 120_000 },
  );
  await page.click('.sample[data-sample="03-star.png"]');
  await page.waitForFunction(
    () =>
      document.querySelector('#image-name')?.textContent?.startsWith('03-star') &&
      document.body.dataset.imageState === 'ready',
  );
  for (const id of ['integrated-gradients', 'lrp']) await page.check(`#method-list input[value="${id}"]`);
  await page.click('#run');
  const done = (selector, n) =>
    page.waitForFunction(
      ([s, k]) => {
        const cards = [...document.querySelectorAll(s)];
        return cards.length === k && cards.every((c) => c.dataset.status === 'done');
      },
      [selector, n],
      { timeout: 300_000 },
    );
  await done('#results .run:first-child .result', 4);
  await page.selectOption('#compare-a-method', 'grad-cam');
  await page.selectOption('#compare-b-method', 'grad-cam');
  await page.selectOption('#compare-a-class', '3');
  await page.selectOption('#compare-b-class', '0');
  await page.check('#compare-shared');
  await page.click('#compare');
  await page.waitForFunction(
    () => document.querySelector('#results .run.compare')?.dataset.shared === 'true',
    null,
    { timeout: 120_000 },
  );
  await page.screenshot({ path: `${app}docs/screenshot.png`, fullPage: true });
  console.log(`wrote ${app}docs/screenshot.png`);
} finally {
  await browser.close();
  server.close();
}
