import { defineExplainer, OptionError, Registry, RegistryError } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import { parseMethodSpec, parseMethodSpecs } from './method-spec.js';

const toy = defineExplainer<{
  steps: number;
  layers: string;
  relu: boolean;
  scheme: string;
  sigmas: number[];
}>({
  id: 'toy',
  family: 'other',
  title: 'Toy',
  citation: 'none',
  description: 'test double',
  requires: [],
  mapKind: 'pixel',
  defaults: { steps: 4, layers: '', relu: true, scheme: 'a', sigmas: [1] },
  options: {
    steps: { type: 'integer', doc: 'steps', min: 1 },
    layers: { type: 'string', doc: 'comma list' },
    relu: { type: 'boolean', doc: 'relu' },
    scheme: { type: 'enum', doc: 'scheme', values: ['a', 'b'] },
    sigmas: { type: 'numbers', doc: 'list' },
  },
  attribute: async (ctx) => ({ map: ctx.input }),
});
const registry = new Registry([toy]);

describe('--method parsing', () => {
  it('reads a bare name and typed key=value options', () => {
    expect(parseMethodSpec('toy', registry).options).toEqual({});
    expect(parseMethodSpec('toy:steps=8,relu=false,scheme=b,sigmas=0.1;0.2', registry).options).toEqual({
      steps: 8,
      relu: false,
      scheme: 'b',
      sigmas: [0.1, 0.2],
    });
  });

  it('lets a list-valued option keep its commas', () => {
    expect(parseMethodSpec('toy:layers=conv2,conv3,steps=2', registry).options).toEqual({
      layers: 'conv2,conv3',
      steps: 2,
    });
    expect(parseMethodSpec('toy:steps=2,layers=a,b', registry).options).toEqual({ steps: 2, layers: 'a,b' });
  });

  it('names unknown methods and options with what exists', () => {
    expect(() => parseMethodSpec('tyo', registry)).toThrow(RegistryError);
    expect(() => parseMethodSpec('toy:stpes=3', registry)).toThrow(
      /toy has no option "stpes"; its options are steps, layers, relu, scheme, sigmas/,
    );
    expect(() => parseMethodSpec('toy:steps=x', registry)).toThrow(OptionError);
    expect(() => parseMethodSpec('toy:relu=maybe', registry)).toThrow(/not true or false/);
    expect(() => parseMethodSpec('toy:justtext', registry)).toThrow(/expected key=value/);
  });

  it('gives repeated methods distinct keys', () => {
    expect(parseMethodSpecs(['toy', 'toy:steps=2', 'toy'], registry).map((r) => r.key)).toEqual([
      'toy',
      'toy-2',
      'toy-3',
    ]);
  });
});
