import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initTfjsBackend, loadTfjsModel } from '@xlens/backend-tfjs';
import { serializeNpy, type Tensor } from '@xlens/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './fixtures.js';

// A converted TF2 GraphModel with a softmax head (backend-tfjs's test fixture, see its README).
const emotion = fileURLToPath(
  new URL('../../backend-tfjs/test/fixtures/emotion/emotion.json', import.meta.url),
);

function faces(n: number): Tensor {
  const data = new Float32Array(n * 64 * 64);
  for (let i = 0; i < data.length; i++) data[i] = 0.5 + 0.4 * Math.sin(i * 0.013 + Math.floor(i / 4096));
  return { data, shape: [n, 64, 64, 1] };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xlens-softmax-'));
  await writeFile(join(dir, 'faces.npy'), serializeNpy(faces(2)));
  await initTfjsBackend('wasm');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a model with a softmax head (the emotion GraphModel)', () => {
  it('predicts probabilities: a softmax of the logits the model now outputs', async () => {
    const r = await runCli(
      ['predict', '--model', emotion, '--input', 'faces.npy', '--top', '7', '--json'],
      dir,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { predictions: { index: number; probability: number }[] }[];
    const model = await loadTfjsModel(emotion);
    const logits = await model.forward(faces(2));
    model.dispose();
    rows.forEach((row, i) => {
      const z = Array.from(logits.data.subarray(i * 7, i * 7 + 7));
      const e = z.map((v) => Math.exp(v - Math.max(...z)));
      const s = e.reduce((a, b) => a + b, 0);
      for (const p of row.predictions) expect(p.probability).toBeCloseTo(e[p.index] / s, 5);
      expect(row.predictions.reduce((a, p) => a + p.probability, 0)).toBeCloseTo(1, 5);
    });
  });

  it('explains the logits and records the removed softmax in results.json and the report', async () => {
    const out = join(dir, 'report');
    const args = [
      'explain',
      '--model',
      emotion,
      '--input',
      'faces.npy',
      '--method',
      'saliency',
      '--method',
      'lrp',
    ];
    const r = await runCli([...args, '--format', 'json,html', '--out', out, '--quiet'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
    expect(json.model).toMatchObject({
      outputKind: 'logits',
      outputActivation: { kind: 'softmax', layer: 'predictions', removed: true },
      warnings: [],
    });
    expect(json.failed).toEqual([]);
    const html = await readFile(join(out, 'index.html'), 'utf8');
    expect(html).toContain('logits (softmax predictions removed; --score softmax explains the probability)');
    // --score softmax still explains the probability.
    const soft = join(dir, 'soft');
    const s = await runCli(
      [...args, '--score', 'softmax', '--format', 'json', '--out', soft, '--quiet'],
      dir,
    );
    expect(s.code).toBe(0);
    expect(JSON.parse(await readFile(join(soft, 'results.json'), 'utf8')).settings.score).toBe('softmax');
  });
});
