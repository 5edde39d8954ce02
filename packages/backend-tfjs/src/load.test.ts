import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphArtifacts } from '../test/graph-fixture.js';
import { expectClose, randomTensor, useWasm } from '../test/helpers.js';
import { fromTfjs } from './from-tfjs.js';
import { loadTfjsModel } from './load.js';
import { buildSmallCnn } from './testing/nets.js';

let dir = '';
beforeAll(async () => {
  await useWasm();
  dir = await mkdtemp(join(tmpdir(), 'xlens-tfjs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Write artifacts as `model.json` + one weight shard, as tfjs's converter lays them out. */
async function writeModel(sub: string, a: tf.io.ModelArtifacts): Promise<string> {
  const data = Array.isArray(a.weightData)
    ? tf.io.concatenateArrayBuffers(a.weightData)
    : (a.weightData as ArrayBuffer);
  await writeFile(join(dir, `${sub}.bin`), new Uint8Array(data));
  const json = {
    format: a.format,
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: [`${sub}.bin`], weights: a.weightSpecs }],
  };
  const path = join(dir, `${sub}.json`);
  await writeFile(path, JSON.stringify(json));
  return path;
}

describe('loadTfjsModel (Node file system, no tfjs-node)', () => {
  it('loads a LayersModel model.json and its shards', async () => {
    const original = buildSmallCnn({ inputSize: 8, numClasses: 3, seed: 2 });
    let saved: tf.io.ModelArtifacts | undefined;
    await original.save(
      tf.io.withSaveHandler(async (a) => {
        saved = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const path = await writeModel('layers', { ...saved!, format: 'layers-model' });
    const loaded = await loadTfjsModel(path, { name: 'reloaded' });
    const reference = fromTfjs(original);
    expect(loaded.info.name).toBe('reloaded');
    expect(loaded.capabilities.has('linear-rules')).toBe(true);
    const x = randomTensor([2, 8, 8, 3], 1);
    expectClose((await loaded.forward(x)).data, (await reference.forward(x)).data, 1e-6);
    loaded.dispose();
    reference.dispose();
  });

  it('loads a graph-model model.json as a GraphModel', async () => {
    const path = await writeModel('graph', graphArtifacts().artifacts);
    const loaded = await loadTfjsModel(`file://${path}`);
    expect(loaded.layers!().map((l) => l.op)).toContain('MaxPool');
    expect((await loaded.forward(randomTensor([1, 6, 6, 2], 2))).shape).toEqual([1, 4]);
    loaded.dispose();
  });

  it('names the file when it cannot be read', async () => {
    await expect(loadTfjsModel(join(dir, 'missing.json'))).rejects.toThrow(/missing\.json/);
  });

  it('never reads outside the model folder, special files, or shards shorter than the manifest', async () => {
    const path = await writeModel('hostile', await artifactsOf(buildSmallCnn()));
    const json = JSON.parse(await readFile(path, 'utf8'));
    const outside = await mkdtemp(join(tmpdir(), 'xlens-secret-'));
    await writeFile(join(outside, 'secret.bin'), new Uint8Array(64));
    await symlink(join(outside, 'secret.bin'), join(dir, 'link.bin'));
    await symlink('/dev/zero', join(dir, 'zero.bin'));
    await writeFile(join(dir, 'short.bin'), new Uint8Array(16));
    const cases: readonly [string, RegExp][] = [
      ['../secret.bin', /outside the model folder/],
      ['%2e%2e/secret.bin', /outside the model folder/],
      ['link.bin', /outside the model folder/],
      ['zero.bin', /outside the model folder/],
      ['short.bin', /hold 16 bytes but its manifest declares \d+/],
    ];
    for (const [shard, message] of cases) {
      json.weightsManifest[0].paths = [shard];
      const bad = join(dir, 'hostile-variant.json');
      await writeFile(bad, JSON.stringify(json));
      await expect(loadTfjsModel(bad), shard).rejects.toThrow(message);
    }
    await expect(loadTfjsModel('/dev/zero')).rejects.toThrow(/it is a character device/);
    await rm(outside, { recursive: true, force: true });
  });
});

/** A model's artifacts as `save` would write them. */
async function artifactsOf(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  model.dispose();
  return saved!;
}
