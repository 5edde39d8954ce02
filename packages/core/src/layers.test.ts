import { describe, expect, it } from 'vitest';
import { fromFunction } from './function-model.js';
import { findLayer, findSpatialLayer, isSpatial, lastSpatialLayer } from './layers.js';
import { referenceModel } from './testing/reference-model.js';
import { biasFreeCnn, tinyCnn, tinyDense } from './testing/toy-nets.js';

describe('layer lookup', () => {
  const m = referenceModel(tinyCnn());
  it('findLayer finds by name and suggests close names', () => {
    expect(findLayer(m, 'conv2').kind).toBe('conv');
    expect(() => findLayer(m, 'conv')).toThrow(
      expect.objectContaining({
        code: 'unknown-layer',
        message: expect.stringContaining('did you mean conv1, conv2?'),
      }),
    );
    expect(() => findLayer(m, 'zzz')).toThrow(/layers: input, conv1, pool1/);
  });
  it('findSpatialLayer rejects vectors', () => {
    expect(findSpatialLayer(m, 'pool1').outputShape).toEqual([4, 4, 4]);
    expect(() => findSpatialLayer(m, 'gap')).toThrow(
      expect.objectContaining({ code: 'not-spatial-layer', message: expect.stringContaining('[6]') }),
    );
  });
  it('lastSpatialLayer skips vectors, 1×1 maps and the input', () => {
    expect(lastSpatialLayer(m).name).toBe('relu2');
    // bias-free-cnn's conv2 is 6×2×2; flatten and fc come after.
    expect(lastSpatialLayer(referenceModel(biasFreeCnn())).name).toBe('conv2');
    expect(() => lastSpatialLayer(referenceModel(tinyDense()))).toThrow(
      expect.objectContaining({ code: 'not-spatial-layer' }),
    );
    expect(isSpatial({ name: 'x', kind: 'conv', op: 'Conv', outputShape: [4, 1, 1], inputs: [] })).toBe(
      false,
    );
  });
  it('needs the layers capability', () => {
    const f = fromFunction(() => new Float32Array(2), { inputShape: [1], layout: 'NCHW', numClasses: 2 });
    expect(() => findLayer(f, 'a')).toThrow(expect.objectContaining({ code: 'missing-capability' }));
  });
});
