// Real-time saliency through the CLI: the method takes its masking model as an option, and the CLI
// resolves it — the zoo's shapes-masker for `--model shapes`, a file given as `masker=…`, and a
// clear error for a model that has no masker.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zooMaskerPath } from '@xlens/zoo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fixtures, makeFixtures, runCli } from './fixtures.js';

let dir: string;
let f: Fixtures;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xlens-masker-'));
  f = await makeFixtures();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  if (f) await rm(f.dir, { recursive: true, force: true });
});

describe('xlens explain --method real-time-saliency', () => {
  it('loads the zoo shapes-masker for the zoo shapes model by default, or the masker named', async () => {
    for (const [name, method] of [
      ['default', 'real-time-saliency'],
      ['named', `real-time-saliency:masker=${zooMaskerPath()}`],
    ]) {
      const out = join(dir, name);
      const r = await runCli(
        ['explain', '--model', 'shapes', '--method', method, '--format', 'npy,json', '--out', out, '--quiet'],
        dir,
      );
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(await readdir(out)).toContain('real-time-saliency.npy');
      const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
      expect(JSON.stringify(results)).toContain('"masker":"shapes-masker"');
    }
  });

  it('names the missing masker for a model the zoo has none for', async () => {
    const r = await runCli(
      [
        'explain',
        '--model',
        f.model,
        '--image',
        f.imageDir,
        '--method',
        'real-time-saliency',
        '--out',
        join(dir, 'x'),
      ],
      dir,
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/real-time-saliency needs a masking model.*masker=path/);
  });
});
