import { XlensError } from '../errors.js';
import type { BackwardRequest, Capability, Model } from '../model.js';
import type { BackwardRules, LinearRule } from '../rules.js';
import { concatBatch, item, sameShape } from '../tensor.js';
import { multiplicativeNoise, randomizeLayers } from '../weights.js';
import {
  assertClose,
  type BackwardFields,
  compareBackward,
  oneHotRows,
  randomInput,
  randomTensor,
  requireCapabilities,
  requireSameInterface,
} from './compare.js';
import type { ToySpec } from './spec.js';
import { avgPoolCnn, biasFreeCnn, cnnWithBatchNorm, tinyCnn, tinyDense, toyNets } from './toy-nets.js';

/**
 * One conformance case: a toy network and a check of a backend's model built from it against the
 * reference model of the same spec (`referenceModel(spec, { layout })`).
 */
export interface ConformanceCase {
  readonly name: string;
  readonly spec: ToySpec;
  /** Capabilities the case exercises; `check` throws if the model lacks one. */
  readonly requires: readonly Capability[];
  /** Throws an `Error` describing the first mismatch. */
  check(model: Model, reference: Model): Promise<void>;
}

type Body = (model: Model, reference: Model, name: string) => Promise<void>;

function makeCase(name: string, spec: ToySpec, requires: readonly Capability[], body: Body): ConformanceCase {
  return {
    name,
    spec,
    requires,
    async check(model, reference) {
      requireSameInterface(name, model, reference);
      requireCapabilities(name, model, requires);
      await body(model, reference, name);
    },
  };
}

const linearNames = (spec: ToySpec): string[] =>
  spec.layers.filter((l) => l.type === 'conv' || l.type === 'dense').map((l) => l.name);
const layerNames = (spec: ToySpec): string[] => spec.layers.map((l) => l.name);

/** A backward request with class targets over a fresh input. */
function classRequest(
  model: Model,
  n: number,
  seed: number,
  extra: Partial<BackwardRequest> = {},
): BackwardRequest {
  return {
    input: randomInput(model, n, seed),
    seed: { kind: 'output', cotangent: oneHotRows(n, model.info.numClasses, seed) },
    ...extra,
  };
}

/** Rules on every linear layer of a spec: `first` on the input-fed one, `rest` on the others. */
function rulesOn(spec: ToySpec, first: LinearRule, rest: LinearRule): Record<string, LinearRule> {
  const names = linearNames(spec);
  return Object.fromEntries(names.map((name, i) => [name, i === 0 ? first : rest]));
}

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

/** A case comparing one backward request with rules on both models. */
function ruleCase(
  name: string,
  spec: ToySpec,
  requires: readonly Capability[],
  rules: (m: Model) => BackwardRules,
  fields: BackwardFields = { inputGradient: true, inputRelevance: true },
): ConformanceCase {
  return makeCase(name, spec, ['gradients', ...requires], async (m, ref, label) => {
    await compareBackward(
      label,
      m,
      ref,
      classRequest(m, 2, 10, { rules: rules(m), relevance: true }),
      fields,
    );
  });
}

const relevanceOnly: BackwardFields = { inputRelevance: true };

function ruleCases(): ConformanceCase[] {
  const cnn = tinyCnn();
  const avg = avgPoolCnn();
  const dense = tinyDense();
  const bn = cnnWithBatchNorm();
  const free = biasFreeCnn();
  const relu: Capability[] = ['relu-rules'];
  const linear: Capability[] = ['linear-rules'];
  const eps: LinearRule = { kind: 'epsilon', epsilon: 0.01 };
  const cases: ConformanceCase[] = [];
  for (const spec of [cnn, avg]) {
    cases.push(
      ruleCase(`relu rule guided: ${spec.name}`, spec, relu, () => ({ relu: 'guided' }), {
        inputGradient: true,
      }),
    );
    cases.push(
      ruleCase(`relu rule deconvnet: ${spec.name}`, spec, relu, () => ({ relu: 'deconvnet' }), {
        inputGradient: true,
      }),
    );
    cases.push(
      ruleCase(
        `relu rule rescale, zero reference item: ${spec.name}`,
        spec,
        relu,
        (m) => ({ relu: 'rescale', reference: randomInput(m, 1, 0, 0, 0) }),
        {
          inputGradient: true,
        },
      ),
    );
  }
  cases.push(
    ruleCase(
      `relu rule rescale, per-item reference: ${cnn.name}`,
      cnn,
      relu,
      (m) => ({ relu: 'rescale', reference: randomInput(m, 2, 11, -0.5, 0.5) }),
      {
        inputGradient: true,
      },
    ),
  );
  const linearRuleSets: [string, ToySpec, Record<string, LinearRule>, BackwardFields?][] = [
    ['epsilon', cnn, rulesOn(cnn, eps, eps)],
    [
      'epsilon 0 (LRP-0)',
      free,
      rulesOn(free, { kind: 'epsilon', epsilon: 0 }, { kind: 'epsilon', epsilon: 0 }),
    ],
    [
      'gamma (default epsilon)',
      cnn,
      rulesOn(cnn, { kind: 'gamma', gamma: 0.25 }, { kind: 'gamma', gamma: 0.25 }),
    ],
    ['gamma with epsilon', avg, rulesOn(avg, { kind: 'gamma', gamma: 0.5, epsilon: 0.01 }, eps)],
    [
      'alpha-beta 2,1',
      cnn,
      rulesOn(cnn, { kind: 'alpha-beta', alpha: 2, beta: 1 }, { kind: 'alpha-beta', alpha: 2, beta: 1 }),
    ],
    ['alpha-beta 1,0', avg, rulesOn(avg, { kind: 'alpha-beta', alpha: 1, beta: 0 }, eps)],
    ['z-plus', cnn, rulesOn(cnn, { kind: 'z-plus' }, { kind: 'z-plus' })],
    ['z-box with number bounds', cnn, rulesOn(cnn, { kind: 'z-box', low: -1, high: 1 }, eps), relevanceOnly],
    ['w-square', avg, rulesOn(avg, { kind: 'w-square' }, eps), relevanceOnly],
    ['w-square after flatten', dense, rulesOn(dense, { kind: 'w-square' }, eps), relevanceOnly],
    ['flat', cnn, rulesOn(cnn, { kind: 'flat' }, { kind: 'alpha-beta', alpha: 1, beta: 0 }), relevanceOnly],
    ['gradient', avg, rulesOn(avg, { kind: 'gradient' }, { kind: 'gradient' })],
  ];
  for (const [rule, spec, rules, fields] of linearRuleSets) {
    cases.push(
      ruleCase(`linear rule ${rule}: ${spec.name}`, spec, linear, () => ({ linear: rules }), fields),
    );
  }
  cases.push(
    ruleCase(
      `linear rule z-box with tensor bounds after flatten: ${dense.name}`,
      dense,
      linear,
      (m) => {
        const low = randomInput(m, 1, 12, -1.5, -1);
        const high = randomInput(m, 2, 13, 1, 1.5);
        return { linear: rulesOn(dense, { kind: 'z-box', low, high }, eps) };
      },
      relevanceOnly,
    ),
  );
  const patternShape = (spec: ToySpec, name: string): number[] => {
    const l = spec.layers.find((x) => x.name === name)!;
    return l.type === 'conv'
      ? [l.outChannels, l.inChannels, l.kernel, l.kernel]
      : l.type === 'dense'
        ? [l.outFeatures, l.inFeatures]
        : [];
  };
  cases.push(
    ruleCase(`linear rule pattern: ${cnn.name}`, cnn, linear, () => ({
      linear: {
        conv2: { kind: 'pattern', weight: randomTensor(patternShape(cnn, 'conv2'), 14) },
        fc: { kind: 'pattern', weight: randomTensor(patternShape(cnn, 'fc'), 15) },
      },
    })),
  );
  cases.push(
    ruleCase(`max-pool proportional: ${cnn.name}`, cnn, linear, () => ({
      linear: rulesOn(cnn, eps, eps),
      maxPool: 'proportional',
    })),
  );
  cases.push(
    ruleCase(`max-pool proportional under plain gradients: ${bn.name}`, bn, linear, () => ({
      maxPool: 'proportional',
    })),
  );
  cases.push(
    ruleCase(`fold batchnorm: ${bn.name}`, bn, linear, () => ({
      linear: { conv1: { kind: 'alpha-beta', alpha: 2, beta: 1 }, conv2: eps, fc: eps },
      foldBatchNorm: true,
    })),
  );
  cases.push(
    ruleCase(`fold batchnorm with epsilon: ${bn.name}`, bn, linear, () => ({
      linear: rulesOn(bn, eps, eps),
      foldBatchNorm: true,
    })),
  );
  cases.push(
    makeCase(
      `input-only rule on a deeper layer throws unsupported-rule: ${cnn.name}`,
      cnn,
      ['gradients', 'linear-rules'],
      async (m, _ref, name) => {
        const request = classRequest(m, 1, 16, {
          rules: { linear: { conv2: { kind: 'z-box', low: -1, high: 1 } } },
          relevance: true,
        });
        let thrown: unknown;
        try {
          await m.backward!(request);
        } catch (e) {
          thrown = e;
        }
        if (
          !(thrown instanceof XlensError) ||
          thrown.code !== 'unsupported-rule' ||
          !thrown.message.includes('conv2')
        ) {
          throw new Error(
            `${name}: expected an XlensError with code unsupported-rule naming conv2, got ${thrown instanceof Error ? `${thrown.name} ${(thrown as XlensError).code ?? ''}: ${thrown.message}` : String(thrown)}`,
          );
        }
      },
    ),
  );
  return cases;
}

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
    deriveCase('randomizeLayers', cnn, randomizeLayers(['conv2', 'fc'], 3)),
    deriveCase('multiplicativeNoise', bn, multiplicativeNoise(0.2, 5)),
  ];
}

/**
 * Every conformance case. A backend's test runs each against its own build of `spec`:
 * `for (const c of conformanceCases()) it(c.name, () => c.check(build(c.spec), referenceModel(c.spec, { layout })))`.
 * Cases throw (never skip) when the model lacks a capability listed in `requires`; the backend's
 * test decides which capabilities it claims and filters on `requires` itself.
 */
export function conformanceCases(): ConformanceCase[] {
  return [...toyNets.flatMap((f) => perNetCases(f())), ...ruleCases(), ...otherCases()];
}
