import { camMethods } from '@xlens/cam';
import { type AnyExplainer, Registry } from '@xlens/core';
import { aggregationMethods } from '@xlens/eval';
import { gradientMethods } from '@xlens/gradients';
import { perturbationMethods } from '@xlens/perturbation';
import { relevanceMethods } from '@xlens/relevance';

/** A fresh registry with every method the installed xlens packages export. */
export function createRegistry(): Registry {
  return new Registry([
    ...gradientMethods,
    ...camMethods,
    ...relevanceMethods,
    ...perturbationMethods,
    ...aggregationMethods,
  ] as readonly AnyExplainer[]);
}

/**
 * The methods `xlens explain` runs when none is named: a few from every family, cheap enough for
 * a quick look, as `--method` specs (`id` or `id:key=value,…`). Those the registry lacks, or the
 * model cannot run, are skipped.
 */
export const defaultMethodIds: readonly string[] = [
  'saliency',
  'integrated-gradients',
  'smoothgrad',
  'guided-backprop',
  'grad-cam',
  'grad-cam-plus-plus',
  'score-cam',
  'lrp',
  'occlusion:window=8,stride=4',
  'rise:masks=300',
];
