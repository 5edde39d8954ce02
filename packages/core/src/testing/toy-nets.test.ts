import { describe, expect, it } from 'vitest';
import { lastSpatialLayer } from '../layers.js';
import { compileNetwork, forwardTrace } from './network.js';
import { referenceModel } from './reference-model.js';
import { biasFreeCnn, residualCnn, tinyCnn, toyNets } from './toy-nets.js';

describe('toy nets', () => {
  it('every net compiles, is small, and has a unique name', () => {
    const names = new Set<string>();
    for (const make of toyNets) {
      const spec = make();
      expect(() => compileNetwork(spec)).not.toThrow();
      const [c, h, w] = spec.inputShape;
      expect(c).toBeGreaterThanOrEqual(2);
      expect(c).toBeLessThanOrEqual(3);
      expect(Math.min(h, w)).toBeGreaterThanOrEqual(4);
      expect(Math.max(h, w)).toBeLessThanOrEqual(12);
      names.add(spec.name);
    }
    expect(names.size).toBe(toyNets.length);
  });
  it('weights are deterministic per seed and differ between seeds', () => {
    expect(tinyCnn(7)).toEqual(tinyCnn(7));
    expect(tinyCnn(7).layers[0]).not.toEqual(tinyCnn(8).layers[0]);
  });
  it('tinyCnn ends in a GAP → dense head after a spatial layer', () => {
    const m = referenceModel(tinyCnn());
    const layers = m.layers!();
    expect(layers.slice(-2).map((l) => l.kind)).toEqual(['global-pool', 'dense']);
    expect(lastSpatialLayer(m).name).toBe('relu2');
  });
  it('biasFreeCnn has no biases; the others have non-zero ones', () => {
    for (const make of toyNets) {
      const spec = make();
      const linear = spec.layers.filter((l) => l.type === 'conv' || l.type === 'dense');
      const hasBias = linear.every(
        (l) => (l.type === 'conv' || l.type === 'dense') && l.bias?.some((b) => b !== 0),
      );
      expect(hasBias, spec.name).toBe(spec.name !== biasFreeCnn().name);
    }
  });
  it('ReLU units are alive: every toy net has non-zero, varied outputs', async () => {
    for (const make of toyNets) {
      const m = referenceModel(make());
      const [c, h, w] = make().inputShape;
      const x = {
        data: Float32Array.from({ length: 2 * c * h * w }, (_, i) => Math.sin(i)),
        shape: [2, c, h, w],
      };
      const out = Array.from((await m.forward(x)).data);
      expect(new Set(out.map((v) => v.toFixed(4))).size, m.info.name).toBe(out.length);
    }
  });
  it('residualCnn: conv2 reads both signs, and bn2 is negative where the sum is positive', () => {
    const net = compileNetwork(residualCnn());
    const size = 3 * 8 * 8;
    const x = Float64Array.from({ length: 2 * size }, (_, i) => Math.sin(1.7 * i));
    const v = forwardTrace(net, x, 2).values;
    const index = (name: string): number => net.layers.findIndex((l) => l.spec.name === name) + 1;
    const bn1 = v[index('bn1')];
    const bn2 = v[index('bn2')];
    const sum = v[index('add')];
    expect(bn1.some((a) => a < 0) && bn1.some((a) => a > 0)).toBe(true);
    expect(bn2.some((a, i) => a < 0 && sum[i] > 0)).toBe(true);
    expect(sum.some((a) => a < 0)).toBe(true);
    expect(net.layers[index('add') - 1].info.inputs).toEqual(['bn2', 'bn1']);
  });
});
