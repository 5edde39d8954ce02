import { type LinearRule, OptionError } from '@xlens/core';
import { referenceModel, tinyCnn, tinyDense } from '@xlens/core/testing';
import { describe, expect, it } from 'vitest';
import { compositeIds, defineComposite, getComposite } from './composites.js';
import { deferRuleFile, lrpRuleDefaults, resolveLrpRules } from './resolve-rules.js';
import { describeRule } from './rules.js';

const names = (linear: Readonly<Record<string, LinearRule>> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(linear ?? {}).map(([k, r]) => [k, describeRule(r)]));

describe('composites', () => {
  const cnn = referenceModel(tinyCnn(), { inputRange: [-1, 1] });
  const mlp = referenceModel(tinyDense(), { inputRange: [0, 1] });
  const resolve = (model = cnn, composite: string, extra = {}) =>
    names(
      resolveLrpRules(model, { ...lrpRuleDefaults, composite, epsilon: 0.1, gamma: 0.5, ...extra }).linear,
    );

  it('assign rules by layer kind and position', () => {
    expect(resolve(cnn, 'epsilon-plus')).toEqual({ conv1: 'z-plus', conv2: 'z-plus', fc: 'epsilon(0.1)' });
    expect(resolve(cnn, 'epsilon-plus-flat')).toEqual({ conv1: 'flat', conv2: 'z-plus', fc: 'epsilon(0.1)' });
    expect(resolve(cnn, 'epsilon-gamma-box')).toEqual({
      conv1: 'z-box(-1, 1)',
      conv2: 'gamma(0.5)',
      fc: 'epsilon(0.1)',
    });
    expect(resolve(cnn, 'epsilon-alpha2-beta1')).toEqual({
      conv1: 'alpha-beta(2, 1)',
      conv2: 'alpha-beta(2, 1)',
      fc: 'epsilon(0.1)',
    });
    expect(resolve(cnn, 'epsilon-alpha2-beta1-flat')).toEqual({
      conv1: 'flat',
      conv2: 'alpha-beta(2, 1)',
      fc: 'epsilon(0.1)',
    });
    expect(resolve(cnn, 'z-plus-box')).toEqual({ conv1: 'z-box(-1, 1)', conv2: 'z-plus', fc: 'z-plus' });
    expect(resolve(cnn, 'z-plus-w-square')).toEqual({ conv1: 'w-square', conv2: 'z-plus', fc: 'z-plus' });
  });

  it('see the input layer through a flatten', () => {
    expect(resolve(mlp, 'epsilon-plus-flat')).toEqual({ fc1: 'flat', fc2: 'epsilon(0.1)' });
    expect(resolve(mlp, 'epsilon-gamma-box')).toEqual({ fc1: 'z-box(0, 1)', fc2: 'epsilon(0.1)' });
  });

  it('take box bounds from options over info.inputRange, per channel as a tensor in the input layout', () => {
    expect(resolve(cnn, 'epsilon-gamma-box', { low: -2, high: 3 }).conv1).toBe('z-box(-2, 3)');
    expect(() => resolve(cnn, 'epsilon-gamma-box', { low: 'abc' })).toThrow(/low = "abc" is invalid/);
    expect(() => resolve(cnn, 'epsilon-gamma-box', { low: [0, 1] })).toThrow(/expected one number or 3/);
    const rules = resolveLrpRules(cnn, {
      ...lrpRuleDefaults,
      composite: 'epsilon-gamma-box',
      low: [0, 1, 2],
      high: [5, 6, 7],
    });
    const box = rules.linear!.conv1 as Extract<LinearRule, { kind: 'z-box' }>;
    expect(typeof box.low).not.toBe('number');
    const low = box.low as { data: Float32Array; shape: number[] };
    expect(low.shape).toEqual([1, 3, 8, 8]);
    expect([low.data[0], low.data[64], low.data[128]]).toEqual([0, 1, 2]);
    const nhwc = referenceModel(tinyCnn(), {
      layout: 'NHWC',
      inputRange: [
        [0, 1],
        [1, 2],
        [2, 3],
      ],
    });
    const r2 = resolveLrpRules(nhwc, { ...lrpRuleDefaults, composite: 'epsilon-gamma-box' });
    const high = (r2.linear!.conv1 as Extract<LinearRule, { kind: 'z-box' }>).high as {
      data: Float32Array;
      shape: number[];
    };
    expect(high.shape).toEqual([1, 8, 8, 3]);
    expect(Array.from(high.data.subarray(0, 6))).toEqual([1, 2, 3, 1, 2, 3]);
  });

  it('are overridden by a rule map, given as an object, JSON text or a file', async () => {
    expect(
      resolve(cnn, 'epsilon-plus', { rules: { conv2: 'gamma:0.1', fc: { kind: 'epsilon', epsilon: 0 } } }),
    ).toEqual({
      conv1: 'z-plus',
      conv2: 'gamma(0.1)',
      fc: 'lrp-0',
    });
    expect(resolve(cnn, 'epsilon-plus', { rules: '{"conv1": "flat"}' }).conv1).toBe('flat');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { nodeFileReader } = await import('@xlens/core/node');
    const file = join(mkdtempSync(join(tmpdir(), 'xlens-rules-')), 'rules.json');
    writeFileSync(file, JSON.stringify({ conv2: 'alpha1-beta0' }));
    const fromFile = (rules: string) =>
      names(resolveLrpRules(cnn, { ...lrpRuleDefaults, rules }, undefined, 'lrp', nodeFileReader).linear);
    expect(fromFile(file).conv2).toBe('alpha-beta(1, 0)');
    expect(() => fromFile('/nonexistent/rules.json')).toThrow(/rule map file: cannot read .*no such file/);
    expect(() => resolve(cnn, 'epsilon-plus', { rules: file })).toThrow(/reading files needs a FileSource/);
    // validate has no files: a rule map file is left to attribute, which reads it before any model pass.
    expect(resolveLrpRules(cnn, deferRuleFile({ ...lrpRuleDefaults, rules: file })).linear).toBeDefined();
    expect(() => resolve(cnn, 'epsilon-plus', { rules: '{not json' })).toThrow(/not valid JSON/);
  });

  it('lists ids and refuses unknown ones naming the known', () => {
    expect(compositeIds).toEqual(
      expect.arrayContaining([
        'epsilon-plus',
        'epsilon-plus-flat',
        'epsilon-gamma-box',
        'epsilon-alpha2-beta1',
        'epsilon-alpha2-beta1-flat',
      ]),
    );
    expect(() => getComposite('epsilon-minus')).toThrow(/epsilon-plus-flat/);
    expect(() => defineComposite({ id: 'Bad Id', description: '', rule: () => undefined })).toThrow(
      OptionError,
    );
  });

  it('accept a user composite', () => {
    const lastOnly = defineComposite({
      id: 'last-epsilon',
      description: 'ε on the last layer only',
      rule: (l) => (l.linearIndex === l.linearCount - 1 ? { kind: 'epsilon', epsilon: 0.5 } : undefined),
    });
    expect(names(resolveLrpRules(cnn, { ...lrpRuleDefaults, composite: lastOnly }).linear)).toEqual({
      fc: 'epsilon(0.5)',
    });
  });
});
