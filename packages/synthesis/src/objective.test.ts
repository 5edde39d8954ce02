import { describe, expect, it } from 'vitest';
import { checkObjective, flattenObjective, formatObjective, parseObjective } from './objective.js';

describe('objectives as text and data', () => {
  it('parses every kind, weights, sums and differences', () => {
    expect(parseObjective('target')).toEqual({ kind: 'target' });
    expect(parseObjective('class:3')).toEqual({ kind: 'class', index: 3 });
    expect(parseObjective('class:3:probability')).toEqual({ kind: 'class', index: 3, score: 'probability' });
    expect(parseObjective('unit:fc1:4')).toEqual({ kind: 'unit', layer: 'fc1', index: 4 });
    expect(parseObjective('unit:conv2:5:3:4')).toEqual({
      kind: 'unit',
      layer: 'conv2',
      index: 5,
      y: 3,
      x: 4,
    });
    expect(parseObjective('channel:block-1/conv:7:centre')).toEqual({
      kind: 'channel',
      layer: 'block-1/conv',
      index: 7,
      at: 'centre',
    });
    expect(parseObjective('layer:conv:2')).toEqual({ kind: 'layer', layer: 'conv:2' });
    expect(parseObjective('class:3 - 0.5*class:5 + 1e-2 * diversity:conv3')).toEqual({
      kind: 'sum',
      terms: [
        { weight: 1, objective: { kind: 'class', index: 3 } },
        { weight: -0.5, objective: { kind: 'class', index: 5 } },
        { weight: 0.01, objective: { kind: 'diversity', layer: 'conv3' } },
      ],
    });
  });
  it('formats back to text that parses to the same data', () => {
    for (const text of [
      'target',
      'class:3:log-probability',
      'unit:conv2:5:3:4',
      'channel:c:1:mean',
      'class:1 - 0.5*class:2 + layer:conv1',
    ]) {
      const o = parseObjective(text);
      expect(parseObjective(formatObjective(o))).toEqual(o);
    }
    expect(formatObjective(parseObjective('class:1 - 0.5*class:2'))).toBe('class:1 - 0.5*class:2');
  });
  it('flattens nested sums, multiplying weights', () => {
    const nested = {
      kind: 'sum' as const,
      terms: [{ weight: 2, objective: parseObjective('class:1 - class:2') }],
    };
    expect(flattenObjective(nested).map((t) => t.weight)).toEqual([2, -2]);
  });
  it('rejects malformed text and data with a message naming the problem', () => {
    expect(() => parseObjective('')).toThrow(/empty/);
    expect(() => parseObjective('klass:3')).toThrow(/unknown objective kind "klass"/);
    expect(() => parseObjective('class:x')).toThrow(/"x" is not a non-negative integer/);
    expect(() => parseObjective('class:1:softmax')).toThrow(/not one of logit, probability, log-probability/);
    expect(() => parseObjective('channel:conv1')).toThrow(/channel takes/);
    expect(() => checkObjective({ kind: 'unit', layer: 'a', index: 1, y: 2 })).toThrow(/both y and x/);
    expect(() =>
      checkObjective({ kind: 'sum', terms: [{ weight: 'x', objective: { kind: 'target' } }] }),
    ).toThrow(/terms\[0\]\.weight/);
  });
});
