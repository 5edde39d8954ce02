import { describe, expect, it } from 'vitest';
import { OptionError } from './errors.js';
import type { OptionSpecs } from './explainer.js';
import { mergeOptions, parseOptionValue } from './options.js';

interface Opts {
  steps: number;
  sigma: number;
  mode: string;
  relu: boolean;
  layer: string | null;
  weights: number[];
}
const defaults: Opts = { steps: 10, sigma: 0.1, mode: 'a', relu: true, layer: null, weights: [1] };
const specs: OptionSpecs<Opts> = {
  steps: { type: 'integer', doc: 'steps', min: 1, max: 100 },
  sigma: { type: 'number', doc: 'noise', min: 0 },
  mode: { type: 'enum', doc: 'mode', values: ['a', 'b'] },
  relu: { type: 'boolean', doc: 'relu' },
  layer: { type: 'string', doc: 'layer' },
  weights: { type: 'numbers', doc: 'weights' },
};
const merge = (user: Record<string, unknown>) => mergeOptions('m', defaults, specs, user);
const errorOf = (user: Record<string, unknown>): OptionError => {
  try {
    merge(user);
  } catch (e) {
    return e as OptionError;
  }
  throw new Error('no error');
};

describe('mergeOptions', () => {
  it('merges over defaults, ignores undefined values and run options', () => {
    expect(merge({ steps: 20, sigma: undefined, batchSize: 4, seed: 1 })).toEqual({ ...defaults, steps: 20 });
  });
  it('rejects unknown options, naming the known ones', () => {
    const e = errorOf({ stpes: 3 });
    expect(e).toBeInstanceOf(OptionError);
    expect(e.code).toBe('unknown-option');
    expect(e.message).toMatch(
      /m has no option "stpes"; its options are steps, sigma, mode, relu, layer, weights/,
    );
  });
  it('rejects wrong types and out-of-range values, naming option and allowed values', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ steps: 2.5 }, /option steps = 2.5 is invalid; expected an integer/],
      [{ steps: 0 }, /option steps = 0 is invalid; expected a value ≥ 1/],
      [{ steps: 101 }, /expected a value ≤ 100/],
      [{ sigma: '0.1' }, /option sigma = "0.1" is invalid; expected a finite number/],
      [{ sigma: Number.NaN }, /sigma = NaN is invalid; expected a finite number/],
      [{ mode: 'c' }, /option mode = "c" is invalid; expected one of a, b/],
      [{ relu: 1 }, /expected true or false/],
      [{ layer: 3 }, /expected a string/],
      [{ weights: [1, Number.NaN] }, /expected a list of finite numbers/],
      [{ weights: 'x' }, /expected a list of numbers/],
    ];
    for (const [user, message] of cases) {
      const e = errorOf(user);
      expect(e.code, JSON.stringify(user)).toBe('invalid-option');
      expect(e.message).toMatch(message);
    }
  });
  it('enforces the allowed values of a string option', () => {
    const s = { ...specs, layer: { type: 'string', doc: 'layer', allowed: ['x', 'y'] } } as const;
    expect(() => mergeOptions('m', defaults, s, { layer: 'z' })).toThrow(/expected one of x, y/);
    expect(mergeOptions('m', defaults, s, { layer: 'x' }).layer).toBe('x');
  });
});

describe('parseOptionValue', () => {
  it('parses per spec', () => {
    expect(parseOptionValue('m', 'steps', '12', specs.steps)).toBe(12);
    expect(parseOptionValue('m', 'relu', 'false', specs.relu)).toBe(false);
    expect(parseOptionValue('m', 'relu', '1', specs.relu)).toBe(true);
    expect(parseOptionValue('m', 'weights', '1;2|3', specs.weights)).toEqual([1, 2, 3]);
    expect(parseOptionValue('m', 'x', '{"a":1}', { type: 'json', doc: '' })).toEqual({ a: 1 });
    expect(parseOptionValue('m', 'mode', 'b', specs.mode)).toBe('b');
  });
  it('rejects bad text and unknown keys', () => {
    expect(() => parseOptionValue('m', 'steps', 'ten', specs.steps)).toThrow(/steps = "ten" is not a number/);
    expect(() => parseOptionValue('m', 'steps', ' ', specs.steps)).toThrow(/is not a number/);
    expect(() => parseOptionValue('m', 'relu', 'yes', specs.relu)).toThrow(/not true or false/);
    expect(() => parseOptionValue('m', 'nope', '1', undefined)).toThrow(
      expect.objectContaining({ code: 'unknown-option' }),
    );
  });
});
