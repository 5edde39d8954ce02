import * as tf from '@tensorflow/tfjs';
import { OptionError, UnsupportedError } from '@xlens/core';
import { describe, expect, it } from 'vitest';
import { initTfjsBackend } from './backend.js';
import { assertGradients } from './convert.js';

describe('initTfjsBackend', () => {
  it('defaults to wasm in Node, loaded from the installed package (no network)', async () => {
    expect(await initTfjsBackend()).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('switches to cpu and back', async () => {
    expect(await initTfjsBackend('cpu')).toBe('cpu');
    expect(await initTfjsBackend('wasm')).toBe('wasm');
  });

  it('rejects unknown names, listing the allowed ones', async () => {
    await expect(initTfjsBackend('metal' as 'cpu')).rejects.toThrow(OptionError);
    await expect(initTfjsBackend('metal' as 'cpu')).rejects.toThrow(/wasm, cpu, tensorflow, webgl/);
  });

  it('asks for the optional @tensorflow/tfjs-node peer only when tensorflow is requested', async () => {
    // tfjs-node cannot be installed offline; when absent the error says what to do.
    const outcome = await initTfjsBackend('tensorflow').then(
      (name) => name,
      (e: unknown) => e,
    );
    if (outcome instanceof Error) {
      expect(outcome).toBeInstanceOf(UnsupportedError);
      expect(outcome.message).toMatch(/@tensorflow\/tfjs-node.*wasm/);
    } else expect(outcome).toBe('tensorflow');
    await initTfjsBackend('wasm');
  });
});

describe('assertGradients', () => {
  it('passes with @tensorflow/tfjs loaded and throws UnsupportedError when gradients are missing', () => {
    expect(() => assertGradients()).not.toThrow();
    expect(() => assertGradients(() => undefined)).toThrow(UnsupportedError);
    expect(() => assertGradients(() => undefined)).toThrow(/tfjs-core/);
  });
});
