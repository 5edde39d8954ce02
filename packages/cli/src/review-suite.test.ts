import { describe, expect, it } from 'vitest';
import { parseCommandLine, UsageError } from './args.js';
import { evaluateCommand } from './evaluate-command.js';
import { createRegistry } from './registry.js';
import { publishedTable1, publishedTable3, table3Checks } from './review-published.js';
import { FORCED_PICTURE, findings, type LocalisationRow, type SanityCell } from './review-suite.js';

const row = (method: string, error: number, published?: number): LocalisationRow => ({
  method,
  ...(published === undefined ? {} : { approach: method, published }),
  error,
  ci95: 1,
  iou: 0.5,
  boxArea: 0.2,
  items: 10,
  milliseconds: 1,
});

const cell = (method: string, verdict: SanityCell['verdict'], published?: string): SanityCell => ({
  method,
  check: 'model-randomisation',
  verdict,
  score: 0.3,
  summary: `spearman-abs = 0.3: ${verdict}`,
  ...(published ? { published } : {}),
  statistics: {},
  milliseconds: 1,
});

describe('review suite findings', () => {
  it('lists contradicted published verdicts only (not agreements, conditions or undecided cells)', () => {
    const out = findings(
      [],
      [
        cell('saliency', 'pass', 'pass'),
        cell('gradient-x-input', 'pass', 'fail'),
        cell('guided-backprop', 'fail', 'pass'),
        cell('grad-cam', 'undecided', 'pass'),
        cell('smoothgrad', 'fail', 'method dependent'),
      ],
      [],
    );
    expect(out).toEqual([
      'Table 3, gradient-x-input · model-randomisation: published fail, measured pass (spearman-abs = 0.3: pass)',
      'Table 3, guided-backprop · model-randomisation: published pass, measured fail (spearman-abs = 0.3: fail)',
    ]);
  });

  it('flags Table 1 methods whose rank among the published rows moves by two or more places', () => {
    // Published order a < b < c < d; measured d first: d moves 3 places, a moves 1, b and c 1.
    const out = findings(
      [row('a', 20, 10), row('b', 30, 20), row('c', 40, 30), row('d', 5, 40), row('e', 1)],
      [],
      [],
    );
    expect(out).toEqual(['Table 1, d: rank 1 of 4 measured (5.0%) vs 4 published (40%)']);
  });

  it('reports methods other than Grad-CAM fooled by the manipulated models', () => {
    const m = (method: string, kind: string, verdict: 'pass' | 'fail') => ({
      method,
      kind,
      verdict,
      relativeDifference: verdict === 'fail' ? 1 : 0,
      forcedError: 0,
      logitDifference: 0,
      summary: '',
    });
    const out = findings(
      [],
      [],
      [
        m('grad-cam', 'image', 'fail'),
        m('saliency', 'image', 'pass'),
        m('score-cam', 'image', 'fail'),
        m('score-cam', 'random', 'fail'),
      ],
    );
    expect(out).toEqual([
      'Manipulation: score-cam changes on the Grad-CAM-manipulated models too (image, random)',
    ]);
  });
});

describe('published tables', () => {
  it('transcribe the review: 10 rows in Table 1, 11 in Table 3, methods known to the registry', () => {
    expect(publishedTable1.map((r) => r.error)).toEqual([
      41.7, 42.0, 57.8, 48.1, 47.5, 38.8, 43.1, 36.9, 39.0, 48.6,
    ]);
    expect(publishedTable3).toHaveLength(11);
    expect(
      publishedTable3.filter((r) => r.verdicts['model-randomisation'] === 'pass').map((r) => r.method),
    ).toEqual(['saliency', 'smoothgrad', 'grad-cam', 'grad-cam-plus-plus', 'score-cam']);
    expect(table3Checks).toEqual(['model-randomisation', 'data-randomisation', 'input-invariance']);
    const ids = new Set(
      createRegistry()
        .list()
        .map((e) => e.id),
    );
    for (const r of publishedTable3) expect(ids.has(r.method)).toBe(true);
    // Table 1 rows whose first method is not a mask method must exist too.
    for (const r of publishedTable1)
      if (r.methods.length && !r.approach.startsWith('Mask')) expect(ids.has(r.methods[0])).toBe(true);
  });

  it('the forced picture is an 8×8 grid of 0/1 cells', () => {
    expect(FORCED_PICTURE).toHaveLength(64);
    expect(new Set(FORCED_PICTURE)).toEqual(new Set([0, 1]));
  });
});

describe('xlens evaluate --suite', () => {
  const io = { stdout: { write: () => true }, stderr: { write: () => true } } as never;

  it('parses --suite and --quick for evaluate only', () => {
    expect(parseCommandLine(['evaluate', '--suite', 'review', '--quick']).values).toMatchObject({
      suite: 'review',
      quick: true,
    });
    expect(() => parseCommandLine(['explain', '--quick'])).toThrow(UsageError);
  });

  it('rejects an unknown suite, --quick alone, and flags the suite chooses itself, before any compute', async () => {
    await expect(evaluateCommand({ suite: 'tables' }, io)).rejects.toThrow(
      /--suite "tables" is invalid; use one of review/,
    );
    await expect(evaluateCommand({ quick: true, method: ['saliency'] }, io)).rejects.toThrow(
      /--quick is for --suite review/,
    );
    await expect(evaluateCommand({ suite: 'review', method: ['saliency'] }, io)).rejects.toThrow(
      /drop --method/,
    );
  });
});
