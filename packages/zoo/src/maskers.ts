import { fileURLToPath } from 'node:url';

/** Names of the bundled masking models (real-time saliency in `@xlens/perturbation`). */
export const ZOO_MASKER_NAMES = ['shapes-masker'] as const;

/** A bundled masking model's name. */
export type ZooMaskerName = (typeof ZOO_MASKER_NAMES)[number];

/**
 * The bundled masking model trained against a zoo classifier, if there is one: `shapes-masker`
 * for `shapes`.
 */
export function zooMaskerFor(model: string): ZooMaskerName | undefined {
  return model === 'shapes' ? 'shapes-masker' : undefined;
}

/**
 * Path of a bundled masking model's tfjs `model.json`. `shapes-masker` maps a 64×64×3 image in
 * [0, 1] to one 16×16 preservation mask per class of the `shapes` model, NHWC-flattened (16·16·6
 * values), trained by `scripts/train-masker.mjs` (facts in `meta.json` beside it).
 */
export function zooMaskerPath(name: ZooMaskerName = 'shapes-masker'): string {
  return fileURLToPath(new URL(`../models/${name}/model.json`, import.meta.url));
}
