import { TargetError } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import { parseTarget } from './targets.js';

describe('--target parsing', () => {
  const labels = ['cat', 'dog', 'fox'];
  it('reads top1, indices, labels and per-item lists', () => {
    expect(parseTarget(undefined, labels)).toBe('top1');
    expect(parseTarget('top1', labels)).toBe('top1');
    expect(parseTarget('2', labels)).toBe(2);
    expect(parseTarget('-1', labels)).toBe(-1);
    expect(parseTarget('dog', labels)).toBe('dog');
    expect(parseTarget('0, fox,1', labels)).toEqual([0, 2, 1]);
  });

  it('names an unknown label in a list', () => {
    expect(() => parseTarget('0,wolf', labels)).toThrow(TargetError);
    expect(() => parseTarget('0,wolf', undefined)).toThrow(/the model has no labels/);
  });
});
