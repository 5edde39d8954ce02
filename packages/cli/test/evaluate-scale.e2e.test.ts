import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serializeNpy, serializeNpz, sliceBatch } from '@xlens/core';
import { sampleImages } from '@xlens/zoo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './fixtures.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xlens-scale-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const scoreColumn = (csv: string): string[] =>
  csv
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',').slice(0, 3).concat(line.split(',')[5]).join(','));

describe('xlens evaluate on the job engine', () => {
  it('scores .npz/.npy shards like the same zoo items, across a shard boundary, and resumes', async () => {
    // The first 8 shapes items: 6 in an .npz shard (with masks), 2 in a .npy shard.
    const s = sampleImages('shapes', 8);
    const shards = join(dir, 'shards');
    await mkdir(shards);
    await writeFile(
      join(shards, 'a.npz'),
      serializeNpz({ x: sliceBatch(s.images, 0, 6), masks: sliceBatch(s.masks!, 0, 6) }),
    );
    await writeFile(join(shards, 'b.npy'), serializeNpy(sliceBatch(s.images, 6, 8)));
    const common = [
      '--method',
      'saliency',
      '--metric',
      'sparseness',
      '--metric',
      'deletion:steps=6',
      '--unit-size',
      '4',
      '--threads',
      '1',
    ];
    const fromShards = await runCli(
      ['evaluate', '--model', 'shapes', '--dataset', shards, ...common, '-o', 'a'],
      dir,
    );
    expect(fromShards.stderr).not.toMatch(/error/);
    expect(fromShards.code).toBe(0);
    expect(fromShards.stdout).toMatch(
      /units: 4 \(0 from an earlier run, 4 computed, 0 unfinished, 0 retried, 0 duplicate/,
    );
    const fromZoo = await runCli(
      ['evaluate', '--dataset', 'shapes', '--count', '8', ...common, '-o', 'b'],
      dir,
    );
    expect(fromZoo.code).toBe(0);
    const a = scoreColumn(await readFile(join(dir, 'a', 'scores.csv'), 'utf8'));
    const b = scoreColumn(await readFile(join(dir, 'b', 'scores.csv'), 'utf8'));
    expect(a).toHaveLength(16);
    expect(a.every((row) => /,-?\d/.test(row))).toBe(true);
    expect(a).toEqual(b);
    const jsonl = (await readFile(join(dir, 'a', 'scores.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(jsonl.map((r) => r.name).slice(0, 8)).toEqual([
      ...Array.from({ length: 6 }, (_, i) => `a.npz#${i}`),
      'b.npy#0',
      'b.npy#1',
    ]);
    expect(await readFile(join(dir, 'a', 'index.html'), 'utf8')).toMatch(/sparseness/);
    // The same command again: everything comes from the database.
    const again = await runCli(
      ['evaluate', '--model', 'shapes', '--dataset', shards, ...common, '-o', 'a'],
      dir,
    );
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/units: 4 \(4 from an earlier run, 0 computed/);
  });

  it('refuses a worker without a queue and flags the engine does not take', async () => {
    const worker = await runCli(['worker'], dir);
    expect(worker.code).toBe(2);
    expect(worker.stderr).toMatch(/--queue/);
    const bad = await runCli(
      ['evaluate', '--dataset', 'shapes', '--threads', '1', '--method', 'saliency', '--target', '3'],
      dir,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/top1 \(default\) or label/);
  });
});
