import type { Tensor, WeightParam } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import { normals } from '../test/op-check.js';
import { OnnxGraphBuilder } from './builder.js';
import { deriveModel } from './derive.js';
import { GraphInfo } from './graph/graph-info.js';
import { fromOnnx } from './onnx-model.js';
import { decodeOnnxModel, encodeOnnxModel } from './proto/codec.js';
import { tensorFloat32 } from './proto/tensor-data.js';

const weight = normals(3 * 2 * 9, 1, 0.5);
const bias = normals(3, 2, 0.1);

/**
 * Four convolutions of the input sharing one weight and one bias: `a` and `b` read them through
 * `Identity` nodes (as PyTorch exports shared initializers), `c` and `d` read the initializers
 * themselves.
 */
function sharedConvs(): Uint8Array {
  const b = new OnnxGraphBuilder({ opset: 17 });
  const x = b.input('x', ['N', 2, 4, 4]);
  const w = b.initializer('shared_w', weight, [3, 2, 3, 3]);
  const bb = b.initializer('shared_b', bias, [3]);
  const convs = ['a', 'b', 'c', 'd'].map((name) => {
    const through = name === 'a' || name === 'b';
    const wi = through ? b.node('Identity', [w]) : w;
    const bi = through ? b.node('Identity', [bb]) : bb;
    return b.node('Conv', [x, wi, bi], { pads: [1, 1, 1, 1] }, { outputs: [name] });
  });
  const sum = b.node('Sum', convs);
  b.output(b.node('Flatten', [b.node('GlobalAveragePool', [sum])], {}, { outputs: ['y'] }));
  return encodeOnnxModel(b.build());
}

const input: Tensor = { data: normals(2 * 32, 3), shape: [2, 2, 4, 4] };

describe('derive with shared weights', () => {
  it('hands every layer its own parameters, and a change to one layer leaves the others sharing the original', async () => {
    const bytes = sharedConvs();
    const model = await fromOnnx(bytes);
    const seen: string[] = [];
    const derived = await model.derive!((p: WeightParam) => {
      seen.push(`${p.layer}:${p.role}`);
      expect(Array.from(p.values)).toEqual(Array.from(p.role === 'weight' ? weight : bias));
      if (p.layer === 'a' && p.role === 'weight') return p.values.map((v) => -v);
      if (p.layer === 'c' && p.role === 'bias') return p.values.map((v) => v + 1);
      return undefined;
    });
    expect(seen.sort()).toEqual([
      'a:bias',
      'a:weight',
      'b:bias',
      'b:weight',
      'c:bias',
      'c:weight',
      'd:bias',
      'd:weight',
    ]);
    const layers = ['a', 'b', 'c', 'd'];
    const before = (await model.capture!(input, layers)).activations;
    const after = (await derived.capture!(input, layers)).activations;
    const plane = 16;
    // a = conv(x, −W) + B = 2B − a₀; c = c₀ + 1; b and d untouched.
    const a = Array.from(before.a.data, (v, i) => 2 * bias[Math.floor(i / plane) % 3] - v);
    const c = Array.from(before.c.data, (v) => v + 1);
    const worst = (got: Float32Array, want: number[]) =>
      Math.max(...want.map((v, i) => Math.abs(got[i] - v)));
    expect(worst(after.a.data, a)).toBeLessThan(1e-5);
    expect(worst(after.c.data, c)).toBeLessThan(1e-5);
    expect(Array.from(after.b.data)).toEqual(Array.from(before.b.data));
    expect(Array.from(after.d.data)).toEqual(Array.from(before.d.data));
    // The original model is unchanged.
    expect(Array.from((await model.capture!(input, ['a'])).activations.a.data)).toEqual(
      Array.from(before.a.data),
    );
    await Promise.all([model.dispose(), derived.dispose()]);
  });

  it('gives a changed shared parameter a new initializer wired to its node alone', async () => {
    const bytes = sharedConvs();
    const model = await fromOnnx(bytes);
    const layers = model.layers!();
    await model.dispose();
    const source = decodeOnnxModel(bytes);
    const next = deriveModel(
      source,
      new GraphInfo(source),
      (t) => t,
      layers,
      (p) => (p.layer === 'b' && p.role === 'weight' ? p.values.map((v) => 2 * v) : undefined),
    );
    const reads = (out: string) => next.graph.node.find((n) => n.output[0] === out)!.input[1];
    const own = reads('b');
    expect(own).not.toBe(source.graph.node.find((n) => n.output[0] === 'b')!.input[1]);
    expect(next.graph.node.filter((n) => n.input.includes(own)).map((n) => n.output[0])).toEqual(['b']);
    const init = (name: string) => next.graph.initializer.find((t) => t.name === name)!;
    expect(Array.from(tensorFloat32(init(own)))).toEqual(Array.from(weight, (v) => 2 * v));
    expect(Array.from(tensorFloat32(init('shared_w')))).toEqual(Array.from(weight));
    expect(reads('c')).toBe('shared_w');
    expect(reads('d')).toBe('shared_w');
    // The source model is untouched.
    expect(source.graph.initializer.map((t) => t.name)).toEqual(['shared_w', 'shared_b']);
    expect(source.graph.node.find((n) => n.output[0] === 'b')!.input[1]).not.toBe(own);
  });

  it('hands a Gemm weight reached through Transpose(Identity(·)) over in canonical out×in layout and replaces it', async () => {
    const b = new OnnxGraphBuilder({ opset: 13 });
    const x = b.input('x', ['N', 3]);
    const stored = [1, 2, 3, 4, 5, 6]; // [out 2, in 3]
    const w = b.node('Transpose', [b.node('Identity', [b.initializer('w', stored, [2, 3])])], {
      perm: [1, 0],
    });
    b.output(b.node('Gemm', [x, w], {}, { outputs: ['y'] }));
    const model = await fromOnnx(encodeOnnxModel(b.build()));
    let seen: number[] = [];
    const derived = await model.derive!((p) => {
      seen = [...p.shape, ...p.values];
      return p.values.map((v, i) => (i < 3 ? v : 0));
    });
    expect(seen).toEqual([2, 3, ...stored]);
    const one = { data: Float32Array.from([1, 1, 1]), shape: [1, 3] };
    expect(Array.from((await model.forward(one)).data)).toEqual([6, 15]);
    expect(Array.from((await derived.forward(one)).data)).toEqual([6, 0]);
    await Promise.all([model.dispose(), derived.dispose()]);
  });
});
