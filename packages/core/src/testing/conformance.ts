import type { BackwardRequest, Model } from '../model.js';
import { concatBatch, item, sameShape } from '../tensor.js';
import { multiplicativeNoise, randomizeLayers } from '../weights.js';
import { assertClose, compareBackward, randomInput, randomTensor } from './compare.js';
import { type ConformanceCase, classRequest, layerNames, makeCase } from './conformance-case.js';
import { ruleCases } from './conformance-rules.js';
import { weightCases } from './conformance-weights.js';
import type { ToySpec } from './spec.js';
import { cnnWithBatchNorm, tinyCnn, toyNets } from './toy-nets.js';

export type { ConformanceCase } from './conformance-case.js';

/** Cases run on every toy net: forward, layers, captures, gradients, seeds, batching. */
function perNetCases(spec: ToySpec): ConformanceCase[] {
  const names = layerNames(spec);
  const k = spec.numClasses;
  return [
    makeCase(`forward: ${spec.name}`, spec, [], async (m, ref, name) => {
      const x = randomInput(m, 3, 1);
      assertClose(name, await m.forward(x), await ref.forward(x));
    }),
    makeCase(`batch of N equals items one by one, forward: ${spec.name}`, spec, [], async (m, _ref, name) => {
      const x = randomInput(m, 4, 2);
      const whole = await m.forward(x);
      const parts = [];
      for (let i = 0; i < 4; i++) parts.push(await m.forward(item(x, i)));
      assertClose(name, whole, concatBatch(parts));
    }),
    makeCase(`layers: ${spec.name}`, spec, ['layers'], async (m, ref, name) => {
      const got = m.layers!();
      const want = ref.layers!().filter((l) => l.kind !== 'input');
      let last = -1;
      for (const w of want) {
        const at = got.findIndex((l) => l.name === w.name);
        if (at < 0)
          throw new Error(
            `${name}: layer ${w.name} is missing; the model lists ${got.map((l) => l.name).join(', ')}`,
          );
        if (at < last)
          throw new Error(
            `${name}: layer ${w.name} comes before the previous spec layer; layers() must be in topological order`,
          );
        last = at;
        const g = got[at];
        if (g.kind !== w.kind)
          throw new Error(`${name}: layer ${w.name} has kind ${g.kind}, expected ${w.kind}`);
        if (!sameShape(g.outputShape, w.outputShape)) {
          throw new Error(
            `${name}: layer ${w.name} has outputShape [${g.outputShape.join(', ')}], expected [${w.outputShape.join(', ')}] (channels-first)`,
          );
        }
      }
    }),
    makeCase(`capture of every layer: ${spec.name}`, spec, ['capture'], async (m, ref, name) => {
      const x = randomInput(m, 2, 3);
      const got = await m.capture!(x, names);
      const want = await ref.capture!(x, names);
      assertClose(`${name}: output`, got.output, want.output);
      for (const l of names) assertClose(`${name}: ${l}`, got.activations[l], want.activations[l]);
    }),
    makeCase(`input gradient, class targets: ${spec.name}`, spec, ['gradients'], async (m, ref, name) => {
      await compareBackward(name, m, ref, classRequest(m, 3, 4), { inputGradient: true });
    }),
    makeCase(
      `input gradient, arbitrary output cotangent: ${spec.name}`,
      spec,
      ['gradients'],
      async (m, ref, name) => {
        const request: BackwardRequest = {
          input: randomInput(m, 2, 5),
          seed: { kind: 'output', cotangent: randomTensor([2, k], 5) },
        };
        await compareBackward(name, m, ref, request, { inputGradient: true });
      },
    ),
    makeCase(
      `batch of N equals items one by one, gradient: ${spec.name}`,
      spec,
      ['gradients'],
      async (m, _ref, name) => {
        const request = classRequest(m, 4, 6);
        const whole = await m.backward!(request);
        const parts = [];
        for (let i = 0; i < 4; i++) {
          const one = await m.backward!({
            input: item(request.input, i),
            seed: { kind: 'output', cotangent: item(request.seed.cotangent, i) },
          });
          parts.push(one.inputGradient!);
        }
        assertClose(name, whole.inputGradient, concatBatch(parts));
      },
    ),
    makeCase(
      `layer gradients of every layer: ${spec.name}`,
      spec,
      ['gradients', 'layer-gradients'],
      async (m, ref, name) => {
        await compareBackward(name, m, ref, classRequest(m, 2, 7, { wrtLayers: names }), {
          inputGradient: true,
          layerGradients: names,
        });
      },
    ),
    makeCase(`layer seed: ${spec.name}`, spec, ['gradients', 'layer-gradients'], async (m, ref, name) => {
      const layer = names[Math.floor(names.length / 2)];
      const shape = ref.layers!().find((l) => l.name === layer)!.outputShape;
      const request: BackwardRequest = {
        input: randomInput(m, 2, 8),
        seed: { kind: 'layer', layer, cotangent: randomTensor([2, ...shape], 8) },
      };
      await compareBackward(`${name} (seed at ${layer})`, m, ref, request, { inputGradient: true });
    }),
    makeCase(
      `relevance without rules is input ⊙ gradient: ${spec.name}`,
      spec,
      ['gradients'],
      async (m, ref, name) => {
        await compareBackward(name, m, ref, classRequest(m, 2, 9, { relevance: true }), {
          inputGradient: true,
          inputRelevance: true,
        });
      },
    ),
  ];
}

/** Backward with captures, forwardScaled and derive. */
function otherCases(): ConformanceCase[] {
  const cnn = tinyCnn();
  const bn = cnnWithBatchNorm();
  const deriveCase = (
    label: string,
    spec: ToySpec,
    transform: Parameters<NonNullable<Model['derive']>>[0],
  ): ConformanceCase =>
    makeCase(`derive ${label}: ${spec.name}`, spec, ['derive'], async (m, ref, name) => {
      const x = randomInput(m, 2, 17);
      const before = await m.forward(x);
      const derived = await m.derive!(transform);
      const expected = await ref.derive!(transform);
      try {
        assertClose(`${name}: derived forward`, await derived.forward(x), await expected.forward(x));
        assertClose(`${name}: original model changed by derive`, await m.forward(x), before);
      } finally {
        await derived.dispose();
        await expected.dispose();
      }
    });
  return [
    makeCase(`gradient with capture: ${cnn.name}`, cnn, ['gradients', 'capture'], async (m, ref, name) => {
      const names = ['conv1', 'gap'];
      await compareBackward(name, m, ref, classRequest(m, 2, 18, { capture: names }), {
        inputGradient: true,
        activations: names,
      });
    }),
    makeCase(
      `layer gradients without input gradient: ${cnn.name}`,
      cnn,
      ['gradients', 'layer-gradients'],
      async (m, ref, name) => {
        await compareBackward(
          name,
          m,
          ref,
          classRequest(m, 2, 19, { wrtInput: false, wrtLayers: ['conv2'] }),
          { layerGradients: ['conv2'] },
        );
      },
    ),
    makeCase(`forwardScaled: ${cnn.name}`, cnn, ['forward-scaled'], async (m, ref, name) => {
      const x = randomInput(m, 2, 20);
      for (const layer of ['pool1', 'relu2']) {
        const channels = ref.layers!().find((l) => l.name === layer)!.outputShape[0];
        const scale = randomTensor([2, channels], 21, 0, 1.5);
        for (let c = 0; c < channels; c += 2) scale.data[c] = 0;
        assertClose(
          `${name} (${layer})`,
          await m.forwardScaled!(x, { layer, scale }),
          await ref.forwardScaled!(x, { layer, scale }),
        );
      }
    }),
    deriveCase('randomizeLayers', cnn, randomizeLayers(['conv2', 'fc'], 3)),
    deriveCase('multiplicativeNoise', bn, multiplicativeNoise(0.2, 5)),
  ];
}

/**
 * Every conformance case. A backend's test runs each against its own build of `spec`:
 * `for (const c of conformanceCases()) it(c.name, () => c.check(build(c.spec), referenceModel(c.spec, { layout })))`.
 * Cases throw (never skip) when the model lacks a capability listed in `requires`; the backend's
 * test decides what it claims and filters on those itself.
 */
export function conformanceCases(): ConformanceCase[] {
  return [...toyNets.flatMap((f) => perNetCases(f())), ...ruleCases(), ...otherCases(), ...weightCases()];
}
