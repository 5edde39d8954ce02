/**
 * The worker: holds the model and the image, runs forward passes and explanations, one at a time,
 * so that the page never waits on the model. Answers every request by its id.
 */
import { type Model, type Registry, type Tensor, topK, XlensError } from '@xlens/core';
import type { RgbaImage } from '@xlens/viz';
import { decodeImage, fitImage, imageTensor, inputDims } from './images.js';
import { createRegistry } from './methods.js';
import { type LoadedModel, loadModel } from './models.js';
import type { ExplainResult, ImageSummary, ModelSummary, Preprocess, Request, Response } from './protocol.js';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const registry: Registry = createRegistry();
let appBase = '';
let loaded: LoadedModel | undefined;
let summary: ModelSummary | undefined;
let preprocess: Preprocess = { mean: [0], std: [1] };
let image: { name: string; original: RgbaImage; fitted: RgbaImage; input: Tensor } | undefined;
/** Cancellation of queued and running explanations, by request id. */
const jobs = new Map<number, AbortController>();
/** Model and explanation work runs in order, one request at a time. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * Resolve after the worker's pending events (a cancel, a new request) have been handled. Backends
 * whose kernels finish synchronously (tfjs wasm, cpu) would otherwise starve the message queue
 * with microtasks for a whole explanation.
 */
function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

const passes = new Set<PropertyKey>(['forward', 'backward', 'capture', 'forwardScaled']);

/** The model, yielding to the worker's events before every pass (and so are the models it derives). */
function yielding(model: Model): Model {
  return new Proxy(model, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      if (passes.has(key))
        return async (...args: unknown[]) => {
          await yieldToEvents();
          return value.apply(target, args);
        };
      if (key === 'derive') return async (...args: unknown[]) => yielding(await value.apply(target, args));
      return value.bind(target);
    },
  });
}

const post = (message: Response, transfer: Transferable[] = []): void => scope.postMessage(message, transfer);

function fail(id: number, error: unknown): void {
  const code = error instanceof XlensError ? error.code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  post({ type: 'error', id, message, ...(code ? { code } : {}) });
}

function softmax(logits: Float32Array): Float32Array {
  const max = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

async function describeImage(name: string, original: RgbaImage): Promise<ImageSummary> {
  if (!loaded) throw new XlensError('invalid-input', 'load a model first');
  const { model } = loaded;
  const { height, width } = inputDims(model.info.inputShape, model.info.layout);
  const fitted = await fitImage(original, width, height);
  const input = imageTensor(
    fitted,
    model.info.inputShape,
    model.info.layout,
    preprocess.mean,
    preprocess.std,
  );
  const started = performance.now();
  const output = await model.forward(input);
  const forwardMs = performance.now() - started;
  image = { name, original, fitted, input };
  const logits = output.data.slice(0, model.info.numClasses);
  const probabilities = model.info.outputKind === 'probabilities' ? logits : softmax(logits);
  const labels = summary?.labels ?? [];
  const top = topK(logits, Math.min(5, logits.length));
  return {
    name,
    rgba: new Uint8ClampedArray(fitted.data),
    width,
    height,
    originalWidth: original.width,
    originalHeight: original.height,
    predictions: Array.from(top, (index) => ({
      index,
      label: labels[index] ?? String(index),
      logit: logits[index],
      probability: probabilities[index],
    })),
    forwardMs,
  };
}

async function handle(request: Request): Promise<void> {
  switch (request.type) {
    case 'init': {
      appBase = request.base;
      const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
      const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
      post({ type: 'ready', id: request.id, webgpu: !!adapter, isolated: scope.crossOriginIsolated });
      return;
    }
    case 'load-model': {
      const previous = loaded;
      loaded = undefined;
      summary = undefined;
      await previous?.model.dispose();
      preprocess = request.preprocess ?? { mean: [0], std: [1] };
      const started = performance.now();
      const next = await loadModel(request.source, request.runtime, appBase);
      const info = next.model.info;
      inputDims(info.inputShape, info.layout); // refuse non-image models here, with a clear message
      loaded = { ...next, model: yielding(next.model) };
      summary = {
        name: info.name,
        runtime: request.runtime,
        backend: next.backend,
        inputShape: info.inputShape,
        layout: info.layout,
        numClasses: info.numClasses,
        labels: info.labels ?? Array.from({ length: info.numClasses }, (_, i) => String(i)),
        layers: next.model.layers?.().map((l) => l.name) ?? [],
        capabilities: [...next.model.capabilities],
        warnings: next.warnings,
        loadMs: performance.now() - started,
        threads: next.threads,
      };
      post({ type: 'model', id: request.id, model: summary });
      return;
    }
    case 'set-image': {
      const original = await decodeImage(request.image.name, new Uint8Array(request.image.bytes));
      const described = await describeImage(request.image.name, original);
      post({ type: 'image', id: request.id, image: described }, [described.rgba.buffer]);
      return;
    }
    case 'explain': {
      const controller = jobs.get(request.id)!;
      try {
        if (!loaded || !image) throw new XlensError('invalid-input', 'load a model and pick an image first');
        const explainer = registry.get(request.method);
        let last = 0;
        const attribution = await explainer.explain(loaded.model, image.input, request.target, {
          ...request.options,
          ...(request.batchSize !== undefined ? { batchSize: request.batchSize } : {}),
          ...(request.seed !== undefined ? { seed: request.seed } : {}),
          ...(request.score !== undefined ? { score: request.score } : {}),
          registry,
          signal: controller.signal,
          onProgress: ({ done, total }) => {
            const now = performance.now();
            if (done < total && now - last < 50) return;
            last = now;
            post({ type: 'progress', id: request.id, done, total });
          },
        });
        const map = new Float32Array(attribution.map.data);
        const result: ExplainResult = {
          method: attribution.method,
          map,
          shape: attribution.map.shape,
          mapKind: attribution.mapKind,
          layout: attribution.layout,
          target: attribution.targets?.[0] ?? null,
          options: JSON.parse(
            JSON.stringify(attribution.options, (_k, v) => (ArrayBuffer.isView(v) ? '[tensor]' : v)),
          ),
          milliseconds: attribution.timing.milliseconds,
          warnings: attribution.warnings,
        };
        post({ type: 'result', id: request.id, result }, [map.buffer]);
      } finally {
        jobs.delete(request.id);
      }
      return;
    }
    case 'cancel':
      return;
  }
}

scope.onmessage = (event: MessageEvent<Request>) => {
  const request = event.data;
  if (request.type === 'cancel') {
    // Cancels at once, whether queued or running (the method stops at its next chunk).
    jobs.get(request.id)?.abort();
    return;
  }
  if (request.type === 'explain') jobs.set(request.id, new AbortController());
  queue = queue.then(() => handle(request).catch((error) => fail(request.id, error)));
};
