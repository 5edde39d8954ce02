import { memoryFiles, parseNpz, serializeNpz } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import {
  loadPatterns,
  patternsFromBytes,
  patternsFromJson,
  patternsToJson,
  patternsToNpz,
} from './pattern-file.js';
import type { Patterns } from './pattern-fit.js';

const patterns: Patterns = {
  model: 'toy',
  layers: {
    conv1: {
      estimator: 'positive',
      pattern: { data: Float32Array.from([1, -2.5, 3e-8, 4, 5, 6]), shape: [2, 1, 1, 3] },
    },
    fc: { estimator: 'linear', pattern: { data: Float32Array.from([0.1, 0.2]), shape: [1, 2] } },
  },
};

describe('pattern files', () => {
  const encoder = new TextEncoder();
  const files = memoryFiles({
    'p.json': encoder.encode(patternsToJson(patterns)),
    'p.npz': patternsToNpz(patterns),
    'bad.json': encoder.encode('{"layers": {"fc": {"shape": [2], "data": [1]}}}'),
    'broken.json': encoder.encode('{not json'),
  });

  it('round-trip through JSON and .npz, read through a FileSource', async () => {
    for (const file of ['p.json', 'p.npz']) {
      const back = await loadPatterns(file, files);
      for (const name of ['conv1', 'fc']) {
        expect(back.layers[name].pattern, file).toEqual(patterns.layers[name].pattern);
      }
    }
    expect(patternsFromJson(JSON.parse(patternsToJson(patterns))).layers.conv1.estimator).toBe('positive');
  });

  it('write .npz that holds one float32 array per layer (what numpy.load reads)', async () => {
    const arrays = await parseNpz(patternsToNpz(patterns));
    expect(Object.keys(arrays)).toEqual(['conv1', 'fc']);
    expect(arrays.fc).toEqual(patterns.layers.fc.pattern);
    const fromNumpyStyle = await patternsFromBytes(serializeNpz({ fc: patterns.layers.fc.pattern }), 'x.NPZ');
    expect(fromNumpyStyle.layers.fc.pattern).toEqual(patterns.layers.fc.pattern);
  });

  it('refuse malformed files, and ask for a FileSource when there is none', async () => {
    await expect(loadPatterns('bad.json', files)).rejects.toThrow(/matching size/);
    await expect(loadPatterns('broken.json', files)).rejects.toThrow(/not valid JSON/);
    await expect(loadPatterns('gone.npz', files)).rejects.toMatchObject({ code: 'invalid-file' });
    await expect(patternsFromBytes(new Uint8Array(40), 'z.npz')).rejects.toThrow(/z\.npz: not a zip archive/);
    await expect(loadPatterns('p.npz', undefined)).rejects.toThrow(
      /patterns file "p\.npz" is a path, and reading files needs a FileSource/,
    );
  });
});
