// Regenerate docs/report-screenshot.png: run the demo (`xlens explain` with no arguments) into a
// temporary folder and photograph its top (header, methods, first input) in headless Chromium.
// Run after building: `node scripts/screenshot.mjs` (needs /usr/bin/chromium or XLENS_CHROMIUM).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { main } from '../dist/index.js';
import { launchChromium } from './chromium.mjs';

const out = await mkdtemp(join(tmpdir(), 'xlens-shot-'));
const code = await main(['explain', '--out', join(out, 'report'), '-q']);
if (code !== 0) process.exit(code);
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1400, height: 1100 }, deviceScaleFactor: 1 });
await page.goto(pathToFileURL(join(out, 'report', 'index.html')).href, { waitUntil: 'load' });
const target = fileURLToPath(new URL('../docs/report-screenshot.png', import.meta.url));
// The header, the methods table and the first input with all its maps.
const box = await page.locator('section.item').first().boundingBox();
await page.screenshot({
  path: target,
  fullPage: true,
  clip: { x: 0, y: 0, width: 1400, height: Math.ceil(box.y + box.height + 16) },
});
await browser.close();
await rm(out, { recursive: true, force: true });
console.log(`wrote ${target}`);
