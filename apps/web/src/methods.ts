import { camMethods } from '@xlens/cam';
import { type AnyExplainer, Registry } from '@xlens/core';
import { gradientMethods } from '@xlens/gradients';
import { perturbationMethods } from '@xlens/perturbation';
import { relevanceMethods } from '@xlens/relevance';

/** Every method the app offers: the families the command line registers, minus aggregation. */
export function createRegistry(): Registry {
  return new Registry([
    ...gradientMethods,
    ...camMethods,
    ...relevanceMethods,
    ...perturbationMethods,
  ] as readonly AnyExplainer[]);
}

/** Methods selected when the page opens. */
export const defaultMethodIds: readonly string[] = ['saliency', 'grad-cam'];
