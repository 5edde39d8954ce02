import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeNpy, decodeNpz, encodeNpy, encodeNpz } from './npy.js';
import { loadPatterns, patternsFromJson, patternsToJson, savePatterns } from './pattern-file.js';
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
  const dir = mkdtempSync(join(tmpdir(), 'xlens-patterns-'));

  it('round-trip through JSON and .npz', () => {
    for (const file of ['p.json', 'p.npz']) {
      const path = join(dir, file);
      savePatterns(patterns, path);
      const back = loadPatterns(path);
      for (const name of ['conv1', 'fc']) {
        expect(back.layers[name].pattern.shape).toEqual(patterns.layers[name].pattern.shape);
        expect(Array.from(back.layers[name].pattern.data)).toEqual(
          Array.from(patterns.layers[name].pattern.data),
        );
      }
    }
    expect(patternsFromJson(JSON.parse(patternsToJson(patterns))).layers.conv1.estimator).toBe('positive');
  });

  it('write .npy headers numpy reads: magic, version 1.0, 64-byte aligned, C-order float32', () => {
    const bytes = encodeNpy({ data: Float32Array.from([1, 2, 3]), shape: [3] });
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const headerLength = bytes[8] + 256 * bytes[9];
    expect((10 + headerLength) % 64).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLength));
    expect(header).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(3,\), \} *\n$/);
    expect(decodeNpy(bytes)).toEqual({ data: Float32Array.from([1, 2, 3]), shape: [3] });
  });

  it('read float64 arrays and refuse what is not npz/npy', () => {
    const header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
    const padded = header + ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
    const bytes = new Uint8Array(10 + padded.length + 16);
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, padded.length & 255, padded.length >> 8]);
    bytes.set(new TextEncoder().encode(padded), 10);
    new DataView(bytes.buffer).setFloat64(10 + padded.length, 0.5, true);
    new DataView(bytes.buffer).setFloat64(10 + padded.length + 8, -2, true);
    expect(Array.from(decodeNpy(bytes).data)).toEqual([0.5, -2]);
    expect(() => decodeNpz(new Uint8Array(40))).toThrow(/not a .npz/);
    expect(Object.keys(decodeNpz(encodeNpz({ a: { data: new Float32Array(1), shape: [1] } })))).toEqual([
      'a',
    ]);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"layers": {"fc": {"shape": [2], "data": [1]}}}');
    expect(() => loadPatterns(bad)).toThrow(/matching size/);
  });
});
