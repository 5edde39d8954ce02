import { runnerRegistry } from '@xlens/runner';

/**
 * A fresh registry with every method the installed xlens packages export: the runner's, so that
 * `xlens explain`, `xlens evaluate` and the runner's worker threads know the same set.
 */
export const createRegistry = runnerRegistry;

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
