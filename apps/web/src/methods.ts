import { camMethods } from '@xlens/cam';
import { type AnyExplainer, Registry } from '@xlens/core';
import { gradientMethods } from '@xlens/gradients';
import { perturbationMethods } from '@xlens/perturbation';
import { relevanceMethods } from '@xlens/relevance';

/**
 * Methods the app leaves out: real-time saliency needs a trained masking model as an option, and
 * the app has no way to load a second model yet.
 */
const needsSecondModel = new Set(['real-time-saliency']);

/** Every method the app offers: the families the command line registers, minus aggregation. */
export function createRegistry(): Registry {
  return new Registry([
    ...gradientMethods,
    ...camMethods,
    ...relevanceMethods,
    ...perturbationMethods.filter((m) => !needsSecondModel.has(m.id)),
  ] as readonly AnyExplainer[]);
}

/** Methods selected when the page opens. */
export const defaultMethodIds: readonly string[] = ['saliency', 'grad-cam'];
