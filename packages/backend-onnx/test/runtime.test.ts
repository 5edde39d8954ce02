import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type Model, UnsupportedError } from '@xlens/core';
import { conformanceCases, referenceModel, tinyCnn } from '@xlens/core/testing';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { afterAll, describe, expect, it } from 'vitest';
import { fromOnnx, type OnnxRuntime } from '../src/index.js';
import { defaultRuntime } from '../src/runtime.js';
import { toyOnnx } from '../src/testing/index.js';

// Both runtimes implement the API subset xlens uses (a compile-time check: the test typechecks).
const nodeRuntime: OnnxRuntime = ortNode;
const webRuntime: OnnxRuntime = ortWeb;
ortWeb.env.wasm.numThreads = 1;

/** onnxruntime-node with every session creation recorded. */
function recordingRuntime(): OnnxRuntime & { created: number } {
  const r = {
    created: 0,
    Tensor: nodeRuntime.Tensor,
    InferenceSession: {
      create: (bytes: Uint8Array, options?: Parameters<OnnxRuntime['InferenceSession']['create']>[1]) => {
        r.created++;
        return nodeRuntime.InferenceSession.create(bytes, options);
      },
    },
  };
  return r;
}

/** Run `fn` as if outside Node.js (no global `process`), restoring it before any await. */
function withoutProcess<T>(fn: () => T): T {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'process')!;
  Object.defineProperty(globalThis, 'process', { value: undefined, configurable: true, writable: true });
  try {
    return fn();
  } finally {
    Object.defineProperty(globalThis, 'process', descriptor);
  }
}

const x = { data: new Float32Array(2 * 3 * 8 * 8).map((_, i) => Math.sin(i)), shape: [2, 3, 8, 8] };
const seed = { kind: 'output' as const, cotangent: { data: new Float32Array(10).fill(1), shape: [2, 5] } };

describe('the injected ONNX Runtime', () => {
  it('runs every session of a model, and of the models it derives, on the given runtime', async () => {
    const runtime = recordingRuntime();
    const model = await fromOnnx(toyOnnx(tinyCnn()), { runtime });
    const afterLoad = runtime.created;
    expect(afterLoad).toBeGreaterThan(0); // the probe
    await model.forward(x);
    await model.backward!({ input: x, seed });
    expect(runtime.created).toBe(afterLoad + 2);
    const derived = await model.derive!((p) => p.values);
    await derived.forward(x);
    expect(runtime.created).toBe(afterLoad + 3);
    await derived.dispose();
    await model.dispose();
  });

  it('gives the same outputs and gradients on onnxruntime-web (wasm) as on onnxruntime-node', async () => {
    const bytes = toyOnnx(tinyCnn());
    const web = await fromOnnx(bytes, { runtime: webRuntime });
    const node = await fromOnnx(bytes);
    try {
      const [a, b] = [await web.backward!({ input: x, seed }), await node.backward!({ input: x, seed })];
      expect(relativeL2(a.output.data, b.output.data)).toBeLessThan(1e-6);
      expect(relativeL2(a.inputGradient!.data, b.inputGradient!.data)).toBeLessThan(1e-6);
    } finally {
      await web.dispose();
      await node.dispose();
    }
  });

  it('refuses a runtime without InferenceSession.create and Tensor, naming what to pass', async () => {
    await expect(fromOnnx(toyOnnx(tinyCnn()), { runtime: {} as OnnxRuntime })).rejects.toThrow(
      /options.runtime is not an ONNX Runtime module: it needs InferenceSession.create and Tensor/,
    );
  });

  it('outside Node.js: no default runtime and no file paths, with messages saying what to pass', async () => {
    const noRuntime = withoutProcess(() => defaultRuntime());
    await expect(noRuntime).rejects.toBeInstanceOf(UnsupportedError);
    await expect(noRuntime).rejects.toThrow(
      /no default ONNX Runtime outside Node.js: pass one as options.runtime/,
    );
    const fromPath = withoutProcess(() => fromOnnx('model.onnx', { runtime: webRuntime }));
    await expect(fromPath).rejects.toThrow(
      /fromOnnx with a file path reads files, which needs Node.js; elsewhere pass the model's bytes/,
    );
  });
});

describe('the main entry loads in browsers', () => {
  const src = resolve(import.meta.dirname, '..', 'src');
  /** Specifiers statically imported (import/export … from) by a module and, recursively, its relative imports. */
  function staticImports(file: string, seen = new Set<string>()): Set<string> {
    const external = new Set<string>();
    if (seen.has(file)) return external;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'|^import\s+'([^']+)'/gms)) {
      const spec = m[1] ?? m[2];
      if (spec.startsWith('.')) {
        for (const s of staticImports(join(dirname(file), spec.replace(/\.js$/, '.ts')), seen))
          external.add(s);
      } else external.add(spec);
    }
    return external;
  }

  it('imports no node: module, no onnxruntime-node and no @xlens/core/node, statically', () => {
    for (const entry of ['index.ts', 'testing/index.ts']) {
      const imports = [...staticImports(join(src, entry))];
      expect(imports.length).toBeGreaterThan(0);
      expect(
        imports.filter((s) => s.startsWith('node:') || s === 'onnxruntime-node' || s.endsWith('/node')),
        entry,
      ).toEqual([]);
    }
    // The Node-only entry is where file access lives.
    expect([...staticImports(join(src, 'node', 'index.ts'))]).toContain('@xlens/core/node');
  });
});

describe('conformance with the core reference model on onnxruntime-web (wasm)', () => {
  const models: Model[] = [];
  afterAll(async () => {
    for (const m of models) await m.dispose();
  });
  for (const c of conformanceCases()) {
    it(c.name, async () => {
      const model = await fromOnnx(toyOnnx(c.spec), { name: c.spec.name, runtime: webRuntime });
      models.push(model);
      await c.check(model, referenceModel(c.spec, { layout: 'NCHW' }));
    });
  }
});

function relativeL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return Math.sqrt(d / n);
}
