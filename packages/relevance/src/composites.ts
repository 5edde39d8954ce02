import { type LinearRule, OptionError, type Tensor } from '@xlens/core';
import type { LinearLayer } from './graph.js';
import {
  alphaBetaRule,
  epsilonRule,
  flatRule,
  gammaRule,
  wSquareRule,
  zBoxRule,
  zPlusRule,
} from './rules.js';

/** Parameters a composite may use when it picks rules. */
export interface CompositeParams {
  /** ε of the epsilon rule. */
  readonly epsilon: number;
  /** γ of the gamma rule. */
  readonly gamma: number;
  /** Input bounds for the box rule (number, or a tensor shaped like one input item). */
  readonly low?: number | Tensor;
  readonly high?: number | Tensor;
}

/**
 * A composite assigns a rule to each linear layer by its kind and position (Kohlbrenner et al.,
 * 2020, "Towards best practice in explaining neural network decisions with LRP",
 * doi:10.1109/IJCNN48605.2020.9206975; the rule/composite/canonizer split follows zennit).
 * Only conv and dense layers take a rule. On a residual block the BatchNorm canonizer
 * (`foldBatchNorm`) gives each conv's rule the conv+BN map, and the addition needs no rule: its
 * gradient splits relevance in proportion to the addends, as zennit's ResNet canonizer does by
 * making the sum an explicit module under its `Norm` rule (see the README).
 */
export interface Composite {
  /** Kebab-case id, the value of the `composite` option. */
  readonly id: string;
  /** What goes where, one line. */
  readonly description: string;
  /** The rule for one conv or dense layer; `undefined` keeps the ordinary gradient. */
  rule(layer: LinearLayer, params: CompositeParams): LinearRule | undefined;
}

/** Make a composite (checks the id). Registers nothing. */
export function defineComposite(composite: Composite): Composite {
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(composite.id)) {
    throw new OptionError('invalid-option', `composite id ${JSON.stringify(composite.id)} is not kebab-case`);
  }
  return composite;
}

const isConv = (l: LinearLayer): boolean => l.layer.kind === 'conv';

const box = (p: CompositeParams): LinearRule => {
  if (p.low === undefined || p.high === undefined) {
    throw new OptionError(
      'invalid-option',
      'the box rule needs input bounds: pass low and high (the model does not declare info.inputRange)',
    );
  }
  return zBoxRule(p.low, p.high);
};

/** A composite from a rule for conv layers, one for dense layers and an optional input-layer rule. */
function layered(
  id: string,
  description: string,
  conv: (p: CompositeParams) => LinearRule,
  denseRule: (p: CompositeParams) => LinearRule,
  input?: (p: CompositeParams) => LinearRule,
): Composite {
  return defineComposite({
    id,
    description,
    rule: (layer, p) => (input && layer.inputFed ? input(p) : isConv(layer) ? conv(p) : denseRule(p)),
  });
}

const eps = (p: CompositeParams): LinearRule => epsilonRule(p.epsilon);

/** ε on every linear layer. */
export const epsilonComposite = layered('epsilon', 'ε on every conv and dense layer', eps, eps);
/** ε on dense, z⁺ on conv. */
export const epsilonPlus = layered('epsilon-plus', 'ε on dense, z⁺ on conv', zPlusRule, eps);
/** ε-plus with flat on the input layer. */
export const epsilonPlusFlat = layered(
  'epsilon-plus-flat',
  'flat on the input layer, ε on dense, z⁺ on conv',
  zPlusRule,
  eps,
  flatRule,
);
/**
 * Box on the input layer, γ on conv, ε on dense (zennit's `EpsilonGammaBox`). γ is the
 * generalised rule (`gammaRule`), stable where BatchNorm-folded convolutions and residual branches
 * have outputs of both signs; pass `rules` with `gamma-classic` for the original one.
 */
export const epsilonGammaBox = layered(
  'epsilon-gamma-box',
  'z^B (box) on the input layer, generalised γ on conv, ε on dense',
  (p) => gammaRule(p.gamma),
  eps,
  box,
);
/** ε on dense, α2β1 on conv. */
export const epsilonAlpha2Beta1 = layered(
  'epsilon-alpha2-beta1',
  'ε on dense, α2β1 on conv',
  () => alphaBetaRule(2, 1),
  eps,
);
/** ε-α2β1 with flat on the input layer. */
export const epsilonAlpha2Beta1Flat = layered(
  'epsilon-alpha2-beta1-flat',
  'flat on the input layer, ε on dense, α2β1 on conv',
  () => alphaBetaRule(2, 1),
  eps,
  flatRule,
);
/** Deep Taylor for bounded inputs: z^B on the input layer, z⁺ elsewhere. */
export const zPlusBox = layered(
  'z-plus-box',
  'z^B (box) on the input layer, z⁺ elsewhere',
  zPlusRule,
  zPlusRule,
  box,
);
/** Deep Taylor for unbounded inputs: w² on the input layer, z⁺ elsewhere. */
export const zPlusWSquare = layered(
  'z-plus-w-square',
  'w² on the input layer, z⁺ elsewhere',
  zPlusRule,
  zPlusRule,
  wSquareRule,
);

/** The built-in composites, by id. */
export const composites: Readonly<Record<string, Composite>> = Object.fromEntries(
  [
    epsilonPlus,
    epsilonPlusFlat,
    epsilonGammaBox,
    epsilonAlpha2Beta1,
    epsilonAlpha2Beta1Flat,
    epsilonComposite,
    zPlusBox,
    zPlusWSquare,
  ].map((c) => [c.id, c]),
);

/** Ids of the built-in composites, in documentation order. */
export const compositeIds: readonly string[] = Object.keys(composites);

/** A built-in composite by id, or an `invalid-option` error listing the ids. */
export function getComposite(id: string): Composite {
  const c = composites[id];
  if (!c)
    throw new OptionError(
      'invalid-option',
      `composite ${JSON.stringify(id)} is unknown; expected one of ${compositeIds.join(', ')}`,
    );
  return c;
}
