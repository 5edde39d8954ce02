import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReviewSuiteResult } from '../src/review-suite.js';
import { launchChromium, runCli } from './fixtures.js';

let dir: string;
let browser: Browser | undefined;
let result: ReviewSuiteResult;
let stdout = '';

// One `--quick` run of the review suite (about a minute and a half here) shared by the tests below.
beforeAll(async () => {
  // Chromium first: a missing browser fails at once, not after the suite's run.
  browser = await launchChromium();
  dir = await mkdtemp(join(tmpdir(), 'xlens-review-'));
  const run = await runCli(['evaluate', '--suite', 'review', '--quick', '--out', 'review', '--quiet'], dir);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  stdout = run.stdout;
  result = JSON.parse(await readFile(join(dir, 'review', 'results.json'), 'utf8')) as ReviewSuiteResult;
}, 400_000);

afterAll(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('xlens evaluate --suite review --quick', () => {
  it('measures Table 1 for the published methods and reports the published values beside them', () => {
    const grad = result.table1.find((r) => r.method === 'grad-cam')!;
    expect(grad.published).toBe(47.5);
    expect(grad.items).toBe(result.settings.localisationItems);
    expect(grad.error).toBeGreaterThanOrEqual(0);
    expect(grad.error).toBeLessThanOrEqual(100);
    expect(stdout).toMatch(/grad-cam\s+47\.5/);
  });

  it('judges Table 3 with each check’s fixed threshold and keeps the published verdict next to it', () => {
    const cell = result.table3.find((c) => c.method === 'saliency' && c.check === 'model-randomisation')!;
    expect(cell.published).toBe('pass');
    expect(cell.threshold?.statistic).toBe('spearman-abs');
    expect(['pass', 'fail', 'undecided']).toContain(cell.verdict);
    // The verdict follows from score and threshold.
    if (cell.verdict !== 'undecided')
      expect(cell.verdict === 'pass').toBe(cell.score < cell.threshold!.value);
    // The permuted-label zoo model is the data-randomisation model.
    const data = result.table3.find((c) => c.method === 'saliency' && c.check === 'data-randomisation')!;
    expect(data.threshold?.statistic).toBe('spearman-abs');
    expect(result.models['data-randomisation model']).toMatch(/shapes-permuted/);
    const saliencyCurve = result.curves.find((c) => c.method === 'saliency')!.curves[0];
    expect(saliencyCurve.x[0]).toBe('original');
    expect(saliencyCurve.y[0]).toBeCloseTo(1, 6);
  });

  it('the manipulated models keep the logits and force Grad-CAM, not the gradient', () => {
    for (const m of result.manipulation) expect(m.logitDifference).toBeLessThanOrEqual(1e-4);
    const cell = (method: string, kind: string) =>
      result.manipulation.find((m) => m.method === method && m.kind === kind)!;
    for (const kind of ['constant', 'image', 'backdoor']) {
      expect(cell('grad-cam', kind).verdict).toBe('fail');
      expect(cell('grad-cam', kind).forcedError).toBeLessThan(1e-3);
      expect(cell('saliency', kind).verdict).toBe('pass');
    }
    expect(cell('grad-cam', 'random').verdict).toBe('fail');
    // Without the trigger the backdoored model explains honestly.
    expect(cell('grad-cam', 'backdoor-clean').relativeDifference).toBeLessThan(1e-3);
  });

  it('renders in headless Chromium: both tables, the manipulation table and the curves, no errors or requests', async () => {
    const page = await browser!.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('request', (r) => requests.push(r.url()));
    const url = pathToFileURL(join(dir, 'review', 'index.html')).href;
    await page.goto(url, { waitUntil: 'load' });
    const headings = await page.$$eval('h2', (els) => els.map((h) => h.textContent ?? ''));
    const table1Rows = await page.$$eval('#table1 + p + table tr', (els) => els.length);
    const verdicts = await page.$$eval('td.v-pass, td.v-fail, td.v-undecided', (els) => els.length);
    const curves = await page.$$eval(
      'figure.curve svg polyline',
      (els) => els.filter((p) => (p.getAttribute('points') ?? '').split(' ').length > 1).length,
    );
    const forced = await page.$$eval('figure.forced svg rect', (els) => els.length);
    const width = await page.$eval(
      'figure.curve svg',
      (el) => (el as unknown as { getBoundingClientRect(): { width: number } }).getBoundingClientRect().width,
    );
    const shown = { headings, table1Rows, verdicts, curves, forced, width };
    await page.close();
    expect(errors).toEqual([]);
    expect(requests).toEqual([url]);
    expect(shown.headings.join('|')).toMatch(/Findings.*Table 1.*Table 3.*manipulation.*curves/i);
    expect(shown.table1Rows).toBeGreaterThan(10);
    expect(shown.verdicts).toBeGreaterThan(10);
    expect(shown.curves).toBeGreaterThan(5);
    expect(shown.forced).toBe(64 * 3 + 36);
    expect(shown.width).toBeGreaterThan(100);
  });
});
