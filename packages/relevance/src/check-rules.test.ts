import { type BackwardRules, type Capability, UnsupportedError } from '@xlens/core';
import { cnnWithBatchNorm, referenceModel, tinyCnn } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { randomInput } from '../test/fixtures.js';
import { checkRules } from './check-rules.js';
import { lrp } from './lrp.js';
import { lrpRuleDefaults, resolveLrpRules } from './resolve-rules.js';

describe('compatibility check', () => {
  const model = referenceModel(tinyCnn(), { inputRange: [-1, 1] });
  const bn = referenceModel(cnnWithBatchNorm());
  const x = randomInput(model, 2);
  const fails = (m: typeof model, rules: BackwardRules) => {
    try {
      checkRules(m, rules, x);
    } catch (err) {
      return err as UnsupportedError;
    }
    throw new Error('expected an error');
  };

  it('refuses input-only rules on a layer not fed by the input, naming layer and rule', () => {
    for (const kind of ['flat', 'w-square'] as const) {
      const err = fails(model, { linear: { conv2: { kind } } });
      expect(err).toBeInstanceOf(UnsupportedError);
      expect(err.code).toBe('unsupported-rule');
      expect(err.message).toMatch(new RegExp(`rule ${kind} on layer "conv2"`));
    }
    expect(fails(model, { linear: { fc: { kind: 'z-box', low: -1, high: 1 } } }).message).toMatch(
      /z-box.*"fc"/,
    );
  });

  it('refuses linear rules on non-linear layers', () => {
    const err = fails(model, { linear: { relu2: { kind: 'epsilon', epsilon: 0.1 } } });
    expect(err.code).toBe('unsupported-rule');
    expect(err.message).toMatch(/layer "relu2" \(activation/);
    expect(fails(model, { linear: { pool1: { kind: 'z-plus' } } }).code).toBe('unsupported-rule');
    const onBn = fails(bn, { linear: { bn1: { kind: 'z-plus' } }, foldBatchNorm: true });
    expect(onBn.message).toMatch(/foldBatchNorm/);
  });

  it('names unknown layers, bad bounds and bad pattern shapes', () => {
    expect(fails(model, { linear: { conv9: { kind: 'z-plus' } } }).code).toBe('unknown-layer');
    const badLow = { data: new Float32Array(5), shape: [5] };
    expect(fails(model, { linear: { conv1: { kind: 'z-box', low: badLow, high: 1 } } }).code).toBe(
      'invalid-option',
    );
    const badPattern = { data: new Float32Array(6 * 4), shape: [6, 4] };
    expect(fails(model, { linear: { fc: { kind: 'pattern', weight: badPattern } } }).message).toMatch(
      /pattern weight shape \[6, 4\].*\[5, 6\]/,
    );
    expect(fails(model, { maxPool: 'average' as never }).code).toBe('invalid-option');
    expect(fails(model, { relu: 'rescale' }).code).toBe('invalid-option');
  });

  it('refuses rules the backend does not offer', () => {
    const caps = new Set<Capability>(['layers', 'gradients']);
    const weak = { ...model, capabilities: caps };
    expect(fails(weak, { linear: { fc: { kind: 'epsilon', epsilon: 0 } } }).code).toBe('missing-capability');
  });

  it('accepts what the reference model runs, and the reference agrees', async () => {
    const rules = resolveLrpRules(model, { ...lrpRuleDefaults, composite: 'epsilon-gamma-box' }, x);
    const cot = { data: new Float32Array(2 * 5).fill(0.2), shape: [2, 5] };
    await expect(
      model.backward!({ input: x, seed: { kind: 'output', cotangent: cot }, rules, relevance: true }),
    ).resolves.toBeDefined();
    await expect(lrp.explain(model, x, 0, { rules: { conv2: 'flat' } })).rejects.toMatchObject({
      code: 'unsupported-rule',
    });
  });
});
