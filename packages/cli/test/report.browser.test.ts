import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry, defaultMethodIds } from '../src/registry.js';
import { type Fixtures, launchChromium, makeFixtures, runCli } from './fixtures.js';

const METHODS = ['saliency', 'grad-cam', 'gradient'];

let f: Fixtures;
let browser: Browser | undefined;

beforeAll(async () => {
  f = await makeFixtures();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  if (f) await rm(f.dir, { recursive: true, force: true });
});

interface PageReport {
  errors: string[];
  requests: string[];
  images: { kind: string | null; method: string | null; width: number; complete: boolean }[];
  items: number;
}

async function open(indexHtml: string): Promise<PageReport> {
  const page = await browser!.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('requestfailed', (r) => errors.push(`failed: ${r.url()}`));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(indexHtml).href, { waitUntil: 'load' });
  const images = await page.$$eval('img', (els) =>
    els.map((e) => ({
      kind: e.getAttribute('data-kind'),
      method: e.getAttribute('data-method'),
      width: (e as unknown as { naturalWidth: number }).naturalWidth,
      complete: (e as unknown as { complete: boolean }).complete,
    })),
  );
  const items = await page.$$eval('section.item', (els) => els.length);
  await page.close();
  return { errors, requests, images, items };
}

function checkShown(r: PageReport, items = 2, methods: readonly string[] = METHODS): void {
  expect(r.errors).toEqual([]);
  expect(r.items).toBe(items);
  expect(r.images.length).toBeGreaterThan(0);
  for (const img of r.images) {
    expect(img.complete).toBe(true);
    expect(img.width).toBeGreaterThan(0);
  }
  expect(r.images.filter((i) => i.kind === 'input')).toHaveLength(items);
  for (const m of methods) {
    expect(r.images.filter((i) => i.method === m && i.kind === 'overlay')).toHaveLength(items);
    expect(r.images.filter((i) => i.method === m && i.kind === 'raw')).toHaveLength(items);
  }
  // Self-contained: nothing but the page itself and local files / data URIs is requested.
  for (const url of r.requests) expect(url).toMatch(/^(file:|data:)/);
}

describe('HTML report in headless Chromium', () => {
  it('the demo: `xlens explain` with no arguments shows the shapes samples with every default method', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'xlens-demo-'));
    try {
      const run = await runCli(['explain'], cwd);
      expect(run.stderr).not.toMatch(/error|skipping/);
      expect(run.code).toBe(0);
      const shown = defaultMethodIds
        .map((spec) => spec.split(':')[0])
        .filter((id) => createRegistry().has(id));
      for (const m of shown) expect(run.stdout).toMatch(new RegExp(`^${m}\\s`, 'm'));
      expect(run.stdout).toContain(`report: ${join('xlens-report', 'index.html')}`);
      checkShown(await open(join(cwd, 'xlens-report', 'index.html')), 6, shown);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it('shows every input and every method map, logs no error (PNG files next to index.html)', async () => {
    const out = join(f.dir, 'files');
    const run = await runCli(
      [
        'explain',
        '--model',
        f.model,
        '--image',
        f.imageDir,
        ...METHODS.flatMap((m) => ['--method', m]),
        '--out',
        out,
        '-q',
      ],
      f.dir,
    );
    expect([run.code, run.stderr]).toEqual([0, '']);
    checkShown(await open(join(out, 'index.html')));
  });

  it('shows the same with images embedded as data URIs (--format html)', async () => {
    const out = join(f.dir, 'embedded');
    const run = await runCli(
      [
        'explain',
        '--model',
        f.model,
        '--image',
        f.imageDir,
        ...METHODS.flatMap((m) => ['--method', m]),
        '--format',
        'html',
        '--out',
        out,
        '-q',
      ],
      f.dir,
    );
    expect([run.code, run.stderr]).toEqual([0, '']);
    const r = await open(join(out, 'index.html'));
    checkShown(r);
    expect(r.requests.filter((u) => u.startsWith('file:'))).toHaveLength(1);
  });
});
