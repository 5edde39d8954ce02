import { fileURLToPath } from 'node:url';

/** Names of the bundled generators (image priors for DGN-AM in `@xlens/synthesis`). */
export const ZOO_GENERATOR_NAMES = ['shapes-generator'] as const;

/** A bundled generator's name. */
export type ZooGeneratorName = (typeof ZOO_GENERATOR_NAMES)[number];

/**
 * Path of a bundled generator's tfjs `model.json`. `shapes-generator` decodes the `shapes`
 * classifier's `conv3` code (16×16×64, NHWC) into a 64×64×3 image in [0, 1], flattened in NHWC order
 * (written by `scripts/train-generator.mjs`; facts in `meta.json` beside it).
 */
export function zooGeneratorPath(name: ZooGeneratorName = 'shapes-generator'): string {
  return fileURLToPath(new URL(`../models/${name}/model.json`, import.meta.url));
}
