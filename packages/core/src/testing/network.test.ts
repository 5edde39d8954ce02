import { describe, expect, it } from 'vitest';
import { createRng } from '../ops/random.js';
import { type BackwardPlan, backwardTrace, compileNetwork, forwardTrace, type Network } from './network.js';
import { toyNets } from './toy-nets.js';

const random = (length: number, seed: number, low = -1, high = 1): Float64Array => {
  const rng = createRng(seed, 5);
  return Float64Array.from({ length }, () => low + (high - low) * rng.uniform());
};
const dot = (a: Float64Array, b: Float64Array): number => a.reduce((s, v, i) => s + v * b[i], 0);
const itemSize = (net: Network): number => net.spec.inputShape.reduce((a, b) => a * b, 1);

function gradientPlan(start: number, seed: Float64Array): BackwardPlan {
  return { start, seed, relu: 'gradient', linear: {}, maxPool: 'winner', foldBatchNorm: false };
}

/** Central differences of `f` at `x` along a few coordinates, against `grad` there. */
function expectFiniteDifferences(
  f: (x: Float64Array) => number,
  x: Float64Array,
  grad: Float64Array,
  seed: number,
): void {
  const rng = createRng(seed, 9);
  const h = 1e-6;
  for (let k = 0; k < 32; k++) {
    const i = rng.int(x.length);
    const plus = x.slice();
    const minus = x.slice();
    plus[i] += h;
    minus[i] -= h;
    const fd = (f(plus) - f(minus)) / (2 * h);
    expect(
      Math.abs(fd - grad[i]),
      `coordinate ${i}: finite difference ${fd}, gradient ${grad[i]}`,
    ).toBeLessThan(1e-7 * (1 + Math.abs(fd)));
  }
}

describe('reference gradients (float64) equal central finite differences', () => {
  for (const make of toyNets) {
    const net = compileNetwork(make());
    const n = 2;
    const x = random(n * itemSize(net), 1);
    const last = net.layers.length;

    it(`${net.spec.name}: input gradient of an arbitrary output cotangent`, () => {
      const c = random(n * net.spec.numClasses, 2);
      const f = (v: Float64Array): number => dot(forwardTrace(net, v, n).values[last], c);
      const { grads } = backwardTrace(net, forwardTrace(net, x, n), gradientPlan(last, c));
      expectFiniteDifferences(f, x, grads[0]!, 3);
    });

    it(`${net.spec.name}: input gradient of a seed at every layer`, () => {
      for (let start = 1; start < last; start++) {
        const trace = forwardTrace(net, x, n);
        const c = random(trace.values[start].length, 10 + start);
        const f = (v: Float64Array): number => dot(forwardTrace(net, v, n).values[start], c);
        const { grads } = backwardTrace(net, trace, gradientPlan(start, c));
        expectFiniteDifferences(f, x, grads[0]!, start);
      }
    });

    it(`${net.spec.name}: layer gradients match differences of a channel scaling`, () => {
      // d/ds f(scale channel k of layer L by s) at s = 1 is Σ over the channel of g_L ⊙ a_L.
      const c = random(n * net.spec.numClasses, 4);
      const trace = forwardTrace(net, x, n);
      const { grads } = backwardTrace(net, trace, gradientPlan(last, c));
      for (let index = 1; index < last; index++) {
        const shape = net.layers[index - 1].outShape;
        const channels = shape[0];
        const plane = shape.slice(1).reduce((a, b) => a * b, 1);
        for (let b = 0; b < n; b++) {
          for (let k = 0; k < channels; k += Math.max(1, Math.floor(channels / 3))) {
            const at = (s: number): number => {
              const scale = new Float64Array(n * channels).fill(1);
              scale[b * channels + k] = s;
              return dot(forwardTrace(net, x, n, { index, scale }).values[last], c);
            };
            const fd = (at(1 + 1e-6) - at(1 - 1e-6)) / 2e-6;
            let analytic = 0;
            const base = (b * channels + k) * plane;
            for (let j = 0; j < plane; j++)
              analytic += grads[index]![base + j] * trace.values[index][base + j];
            expect(
              Math.abs(fd - analytic),
              `${net.layers[index - 1].spec.name} item ${b} channel ${k}`,
            ).toBeLessThan(1e-7 * (1 + Math.abs(fd)));
          }
        }
      }
    });
  }
});

describe('rescale (DeepLIFT) on a net with one hidden ReLU layer', () => {
  const net = compileNetwork(toyNets[0]());
  const n = 3;
  const size = itemSize(net);
  const last = net.layers.length;
  it('is exactly complete: Σ (x − x₀) ⊙ g = c · (f(x) − f(x₀))', () => {
    const x = random(n * size, 20);
    const x0 = random(n * size, 21, -0.3, 0.3);
    const c = random(n * net.spec.numClasses, 22);
    const { grads } = backwardTrace(net, forwardTrace(net, x, n), {
      ...gradientPlan(last, c),
      relu: 'rescale',
      reference: forwardTrace(net, x0, n),
    });
    const fx = forwardTrace(net, x, n).values[last];
    const f0 = forwardTrace(net, x0, n).values[last];
    const k = net.spec.numClasses;
    for (let b = 0; b < n; b++) {
      let lhs = 0;
      for (let j = 0; j < size; j++) lhs += (x[b * size + j] - x0[b * size + j]) * grads[0]![b * size + j];
      let rhs = 0;
      for (let j = 0; j < k; j++) rhs += c[b * k + j] * (fx[b * k + j] - f0[b * k + j]);
      expect(lhs).toBeCloseTo(rhs, 10);
    }
  });
  it('falls back to the gradient when the reference equals the input', () => {
    const x = random(n * size, 23);
    const c = random(n * net.spec.numClasses, 24);
    const trace = forwardTrace(net, x, n);
    const plain = backwardTrace(net, trace, gradientPlan(last, c)).grads[0]!;
    const rescaled = backwardTrace(net, trace, {
      ...gradientPlan(last, c),
      relu: 'rescale',
      reference: trace,
    }).grads[0]!;
    expect(Array.from(rescaled)).toEqual(Array.from(plain));
  });
});

describe('compileNetwork', () => {
  it('rejects inconsistent specs with invalid-model naming the layer', () => {
    const spec = toyNets[1]();
    const broken = {
      ...spec,
      layers: spec.layers.map((l) =>
        l.name === 'conv2' && l.type === 'conv' ? { ...l, weight: l.weight.slice(1) } : l,
      ),
    };
    expect(() => compileNetwork(broken)).toThrow(/conv2: weight has/);
    const wrongClasses = { ...spec, numClasses: 7 };
    expect(() => compileNetwork(wrongClasses)).toThrow(expect.objectContaining({ code: 'invalid-model' }));
    const duplicate = {
      ...spec,
      layers: [...spec.layers.slice(0, 2), { ...spec.layers[1] }, ...spec.layers.slice(2)],
    };
    expect(() => compileNetwork(duplicate)).toThrow(/duplicate layer name/);
  });
});
