import { XlensError } from '../errors.js';
import type { Capability, Model } from '../model.js';
import type { BackwardRules, LinearRule } from '../rules.js';
import { type BackwardFields, compareBackward, randomInput, randomTensor } from './compare.js';
import { type ConformanceCase, classRequest, makeCase, rulesOn } from './conformance-case.js';
import type { ToySpec } from './spec.js';
import { avgPoolCnn, biasFreeCnn, cnnWithBatchNorm, residualCnn, tinyCnn, tinyDense } from './toy-nets.js';

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

/** Cases for every backward rule: ReLU rules, each linear rule, max-pool, BatchNorm folding. */
export function ruleCases(): ConformanceCase[] {
  const cnn = tinyCnn();
  const avg = avgPoolCnn();
  const dense = tinyDense();
  const bn = cnnWithBatchNorm();
  const free = biasFreeCnn();
  const res = residualCnn();
  const relu: Capability[] = ['relu-rules'];
  const linear: Capability[] = ['linear-rules'];
  const eps: LinearRule = { kind: 'epsilon', epsilon: 0.01 };
  const gamma: LinearRule = { kind: 'gamma', gamma: 0.25 };
  const ab21: LinearRule = { kind: 'alpha-beta', alpha: 2, beta: 1 };
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
    // Inputs of both signs (the image, and bn1 into conv2), outputs of both signs, a residual
    // branch: every branch of the generalised rule runs.
    ['gamma, mixed signs and a residual branch', res, rulesOn(res, gamma, gamma)],
    [
      'gamma-classic (default epsilon)',
      cnn,
      rulesOn(cnn, { kind: 'gamma-classic', gamma: 0.25 }, { kind: 'gamma-classic', gamma: 0.25 }),
    ],
    [
      'gamma-classic with epsilon, mixed signs',
      res,
      rulesOn(res, { kind: 'gamma-classic', gamma: 0.5, epsilon: 0.01 }, eps),
    ],
    ['z-plus, mixed signs and a residual branch', res, rulesOn(res, { kind: 'z-plus' }, { kind: 'z-plus' })],
    ['alpha-beta 2,1, mixed signs and a residual branch', res, rulesOn(res, ab21, ab21)],
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
    ruleCase(`fold batchnorm with gamma, residual branch: ${res.name}`, res, linear, () => ({
      linear: rulesOn(res, gamma, gamma),
      foldBatchNorm: true,
    })),
  );
  cases.push(
    ruleCase(`fold batchnorm, the epsilon-gamma-box rules: ${res.name}`, res, linear, () => ({
      linear: { conv1: { kind: 'z-box', low: -1, high: 1 }, conv2: gamma, fc: eps },
      foldBatchNorm: true,
    })),
  );
  cases.push(
    ruleCase(`ignore bias, epsilon and z-plus with folded batchnorm: ${bn.name}`, bn, linear, () => ({
      linear: { conv1: { kind: 'z-plus' }, conv2: eps, fc: eps },
      foldBatchNorm: true,
      ignoreBias: true,
    })),
  );
  cases.push(
    ruleCase(`ignore bias, gamma and alpha-beta on a residual branch: ${res.name}`, res, linear, () => ({
      linear: {
        conv1: { kind: 'alpha-beta', alpha: 2, beta: 1 },
        conv2: gamma,
        fc: { kind: 'gamma-classic', gamma: 0.5 },
      },
      foldBatchNorm: true,
      ignoreBias: true,
    })),
  );
  cases.push(
    ruleCase(
      `relu pass (the gradient on plain ReLUs) with epsilon: ${cnn.name}`,
      cnn,
      ['linear-rules', 'relu-rules'],
      () => ({
        linear: rulesOn(cnn, eps, eps),
        relu: 'pass',
      }),
    ),
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
