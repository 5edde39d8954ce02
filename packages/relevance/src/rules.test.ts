import { OptionError } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import {
  alphaBetaRule,
  describeRule,
  epsilonRule,
  gammaClassicRule,
  gammaRule,
  lrp0Rule,
  parseRule,
  zBoxRule,
} from './rules.js';

const defaults = { epsilon: 1e-6, gamma: 0.25, low: -1, high: 1 };

describe('rules', () => {
  it('construct the core rule objects', () => {
    expect(lrp0Rule()).toEqual({ kind: 'epsilon', epsilon: 0 });
    expect(epsilonRule(0.25)).toEqual({ kind: 'epsilon', epsilon: 0.25 });
    expect(gammaRule()).toEqual({ kind: 'gamma', gamma: 0.25 });
    expect(gammaClassicRule(0.5, 0.01)).toEqual({ kind: 'gamma-classic', gamma: 0.5, epsilon: 0.01 });
    expect(alphaBetaRule()).toEqual({ kind: 'alpha-beta', alpha: 2, beta: 1 });
    expect(zBoxRule(0, 1)).toEqual({ kind: 'z-box', low: 0, high: 1 });
  });

  it('parse text and object forms with defaults', () => {
    expect(parseRule('epsilon', defaults)).toEqual({ kind: 'epsilon', epsilon: 1e-6 });
    expect(parseRule('epsilon:0.3', defaults)).toEqual({ kind: 'epsilon', epsilon: 0.3 });
    expect(parseRule('gamma', defaults)).toEqual({ kind: 'gamma', gamma: 0.25 });
    expect(parseRule('gamma-classic', defaults)).toEqual({ kind: 'gamma-classic', gamma: 0.25 });
    expect(parseRule('gamma-classic:0.1:0.01', defaults)).toEqual({
      kind: 'gamma-classic',
      gamma: 0.1,
      epsilon: 0.01,
    });
    expect(parseRule({ kind: 'gamma-classic', gamma: 0.3 }, defaults)).toEqual({
      kind: 'gamma-classic',
      gamma: 0.3,
    });
    expect(describeRule(gammaClassicRule(0.3))).toBe('gamma-classic(0.3)');
    expect(parseRule('alpha2-beta1', defaults)).toEqual({ kind: 'alpha-beta', alpha: 2, beta: 1 });
    expect(parseRule('alpha-beta:3', defaults)).toEqual({ kind: 'alpha-beta', alpha: 3, beta: 2 });
    expect(parseRule('z-box', defaults)).toEqual({ kind: 'z-box', low: -1, high: 1 });
    expect(parseRule('z-box:0:2', defaults)).toEqual({ kind: 'z-box', low: 0, high: 2 });
    expect(parseRule({ kind: 'gamma' }, defaults)).toEqual({ kind: 'gamma', gamma: 0.25 });
    expect(parseRule({ kind: 'flat' }, defaults)).toEqual({ kind: 'flat' });
    const p = parseRule({ kind: 'pattern', weight: { data: [1, 2], shape: [1, 2] } }, defaults);
    expect(p.kind === 'pattern' && p.weight.data).toBeInstanceOf(Float32Array);
  });

  it('refuse bad names and parameters, naming what is allowed', () => {
    expect(() => parseRule('epsilonn', defaults)).toThrow(/expected one of lrp-0, epsilon/);
    expect(() => parseRule('epsilon:x', defaults)).toThrow(OptionError);
    expect(() => parseRule('epsilon:-1', defaults)).toThrow(/≥ 0/);
    expect(() => parseRule('alpha2-beta2', defaults)).toThrow(/alpha − beta = 1/);
    expect(() => parseRule({ kind: 'nope' }, defaults)).toThrow(/expected one of gradient, epsilon/);
    expect(() => parseRule('z-box', { epsilon: 0, gamma: 0 }, 'rules["conv1"]')).toThrow(
      /rules\["conv1"\].*low and high/,
    );
    expect(() => zBoxRule(1, 0)).toThrow(/low ≤ high/);
    expect(() => parseRule(42, defaults)).toThrow(OptionError);
  });
});
