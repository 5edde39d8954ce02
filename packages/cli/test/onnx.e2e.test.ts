import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromOnnx } from '@xlens/backend-onnx';
import { toyOnnx } from '@xlens/backend-onnx/testing';
import { type Model, parseNpy, serializeNpy, type Tensor } from '@xlens/core';
import { tinyCnn } from '@xlens/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry } from '../src/registry.js';
import { type Fixtures, makeFixtures, runCli } from './fixtures.js';

let f: Fixtures;
let onnxPath: string;
let model: Model;

beforeAll(async () => {
  f = await makeFixtures();
  onnxPath = join(f.dir, 'tiny.onnx');
  await writeFile(onnxPath, toyOnnx(tinyCnn()));
  model = await fromOnnx(onnxPath);
});
afterAll(async () => {
  await model?.dispose();
  if (f) await rm(f.dir, { recursive: true, force: true });
});

describe('xlens explain on an ONNX model', () => {
  it('runs gradient and CAM methods through onnxruntime and matches the library', async () => {
    // NCHW [2, 3, 8, 8] input in [0, 1], written as .npy so both sides see identical values.
    const data = Float32Array.from({ length: 2 * 3 * 8 * 8 }, (_, i) => ((i * 37) % 101) / 100);
    const input: Tensor = { data, shape: [2, 3, 8, 8] };
    const npy = join(f.dir, 'onnx-in.npy');
    await writeFile(npy, serializeNpy(input));
    const out = join(f.dir, 'onnx-out');
    const r = await runCli(
      [
        'explain',
        '--model',
        onnxPath,
        '--input',
        npy,
        '--method',
        'gradient',
        '--method',
        'grad-cam',
        '--format',
        'npy,json,html',
        '--out',
        out,
        '-q',
      ],
      f.dir,
    );
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/gradient\s/);
    const json = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
    expect(json.model).toMatchObject({ backend: 'onnx', layout: 'NCHW', numClasses: 5 });
    // The first backward pass builds a session: that one-time set-up is reported apart, and the
    // ratio is the warm time's.
    const first = json.methods[0];
    expect(first.setupMilliseconds).toBeGreaterThan(0);
    expect(first.ratio).toBeCloseTo(
      (first.milliseconds - first.setupMilliseconds) / json.forwardMilliseconds,
      6,
    );
    expect(r.stdout).toMatch(/of which set-up/);
    const registry = createRegistry();
    for (const id of ['gradient', 'grad-cam']) {
      const got = parseNpy(await readFile(join(out, `${id}.npy`)));
      const want = (await registry.get(id).explain(model, input, 'top1')).map;
      expect(got.shape).toEqual(want.shape);
      for (let i = 0; i < want.data.length; i++) expect(got.data[i]).toBeCloseTo(want.data[i], 5);
    }
    expect(await readdir(out)).toContain('index.html');
  });

  it('keeps the sessions it builds in XLENS_CACHE_DIR and gives the same maps from them', async () => {
    const data = Float32Array.from({ length: 3 * 8 * 8 }, (_, i) => ((i * 53) % 97) / 97);
    const npy = join(f.dir, 'cache-in.npy');
    await writeFile(npy, serializeNpy({ data, shape: [1, 3, 8, 8] }));
    const cache = join(f.dir, 'session-cache');
    const maps: Tensor[] = [];
    const explain = (method: string, out: string, noCache: string) =>
      runCli(
        [
          'explain',
          '-m',
          onnxPath,
          '--input',
          npy,
          '--method',
          method,
          '--format',
          'npy',
          '--out',
          out,
          '-q',
        ],
        f.dir,
        { XLENS_CACHE_DIR: cache, XLENS_NO_CACHE: noCache },
      );
    for (const run of ['first', 'second']) {
      const out = join(f.dir, `cache-${run}`);
      const r = await explain('saliency', out, '');
      expect([r.code, r.stderr]).toEqual([0, '']);
      maps.push(parseNpy(await readFile(join(out, 'saliency.npy'))));
      // Forward and the saliency backward session, with the probe's record.
      expect((await readdir(cache)).filter((n) => n.endsWith('.ort'))).toHaveLength(2);
    }
    expect(Array.from(maps[1].data)).toEqual(Array.from(maps[0].data));
    const off = await explain('gradient', join(f.dir, 'cache-off'), '1');
    expect(off.code).toBe(0);
    expect((await readdir(cache)).filter((n) => n.endsWith('.ort'))).toHaveLength(2);
  });

  it('resizes images to the ONNX input and refuses a tfjs backend for it', async () => {
    const out = join(f.dir, 'onnx-images');
    const ok = await runCli(['predict', '--model', onnxPath, '--image', f.imageDir, '--json'], f.dir);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toHaveLength(2);
    const bad = await runCli(
      ['explain', '--model', onnxPath, '--backend', 'tfjs-wasm', '--image', f.images[0], '--out', out],
      f.dir,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toMatch(
      /^xlens: error: --backend tfjs-wasm needs a tfjs model\.json; .*tiny\.onnx is an ONNX model/,
    );
  });
});
