import { residualCnn, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { OnnxGraphBuilder } from '../builder.js';
import { GraphInfo } from '../graph/graph-info.js';
import { toyOnnxModel } from '../toy-onnx.js';
import { provablyNonNegative } from './linear-rules.js';

describe('provablyNonNegative (which sign-aware rules may skip their x < 0 branch)', () => {
  it('sees a ReLU through pooling, and nothing before it', () => {
    const info = new GraphInfo(toyOnnxModel(tinyCnn()));
    // conv1 (fused ReLU) → pool1 → conv2: conv2 reads pool1.
    expect(provablyNonNegative(info, 'pool1')).toBe(true);
    expect(provablyNonNegative(info, 'conv1')).toBe(true);
    expect(provablyNonNegative(info, 'conv1/linear')).toBe(false);
    expect(provablyNonNegative(info, 'input')).toBe(false);
  });

  it('does not trust BatchNorm outputs or residual sums', () => {
    const info = new GraphInfo(toyOnnxModel(residualCnn()));
    expect(provablyNonNegative(info, 'bn1')).toBe(false);
    expect(provablyNonNegative(info, 'add')).toBe(false);
    expect(provablyNonNegative(info, 'relu')).toBe(true);
  });

  it('accepts Clip at a non-negative minimum (input or attribute), Concat of non-negatives', () => {
    const b = new OnnxGraphBuilder({ opset: 13, name: 'clip' });
    const x = b.input('x', ['N', 4]);
    const zero = b.initializer('zero', [0], []);
    const low = b.initializer('low', [-1], []);
    const six = b.initializer('six', [6], []);
    b.node('Clip', [x, zero, six], {}, { outputs: ['relu6'] });
    b.node('Clip', [x, low, six], {}, { outputs: ['clipped'] });
    b.node('Relu', [x], {}, { outputs: ['r'] });
    b.node('Concat', ['relu6', 'r'], { axis: 1 }, { outputs: ['both'] });
    b.node('Concat', ['clipped', 'r'], { axis: 1 }, { outputs: ['mixed'] });
    b.output(b.node('Add', ['both', 'mixed'], {}, { outputs: ['y'] }), ['N', 8]);
    const info = new GraphInfo(b.build());
    expect(provablyNonNegative(info, 'relu6')).toBe(true);
    expect(provablyNonNegative(info, 'clipped')).toBe(false);
    expect(provablyNonNegative(info, 'both')).toBe(true);
    expect(provablyNonNegative(info, 'mixed')).toBe(false);
    const old = new OnnxGraphBuilder({ opset: 6, name: 'clip6' });
    const x6 = old.input('x', ['N', 4]);
    old.output(old.node('Clip', [x6], { min: 0, max: 6 }, { outputs: ['y'] }), ['N', 4]);
    expect(provablyNonNegative(new GraphInfo(old.build()), 'y')).toBe(true);
  });
});
