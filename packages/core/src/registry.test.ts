import { describe, expect, it } from 'vitest';
import { RegistryError } from './errors.js';
import { defineExplainer } from './explain.js';
import type { Family } from './explainer.js';
import { Registry } from './registry.js';

const method = (id: string, family: Family = 'other') =>
  defineExplainer<{ level: number }>({
    id,
    family,
    title: id,
    citation: 'none',
    description: 'test',
    requires: [],
    mapKind: 'pixel',
    defaults: { level: 1 },
    options: { level: { type: 'integer', doc: 'unused' } },
    attribute: async () => ({ map: { data: new Float32Array(0), shape: [0] } }),
  });

describe('Registry', () => {
  it('registers, finds and lists by family', () => {
    const r = new Registry([method('a-one', 'cam'), method('b', 'gradients')]);
    expect(r.has('a-one')).toBe(true);
    expect(r.get('b').id).toBe('b');
    expect(r.list().map((m) => m.id)).toEqual(['a-one', 'b']);
    expect(r.list('cam').map((m) => m.id)).toEqual(['a-one']);
  });
  it('rejects duplicates and non-kebab ids', () => {
    const r = new Registry([method('a')]);
    expect(() => r.register(method('a'))).toThrow(
      expect.objectContaining({ code: 'duplicate-method', message: 'method a is already registered' }),
    );
    expect(() => r.register(method('GradCam'))).toThrow(RegistryError);
  });
  it('names the known methods for an unknown id', () => {
    const r = new Registry([method('a'), method('b')]);
    expect(() => r.get('c')).toThrow(
      expect.objectContaining({ code: 'unknown-method', message: 'unknown method "c"; known methods: a, b' }),
    );
  });
  it('two registries are independent', () => {
    const one = new Registry([method('a')]);
    expect(new Registry().has('a')).toBe(false);
    expect(one.has('a')).toBe(true);
  });
});
