import type { Tensor } from '@xlens/core';

/**
 * Options that keep every sample-based method to a handful of rows on the 64×64 zoo images, shared
 * by the cross-runtime tests; `data` holds the reference images of conditional prediction
 * difference. Seeds (set by each test) make every runtime draw the same noise.
 */
export const quickOptions = (data?: Tensor): Record<string, Record<string, unknown>> => ({
  'integrated-gradients': { steps: 16 },
  smoothgrad: { samples: 4 },
  vargrad: { samples: 4 },
  noisegrad: { models: 2 },
  fusiongrad: { models: 2, samples: 2 },
  'smooth-grad-cam-plus-plus': { samples: 4 },
  xrai: { steps: 8, segmentationSize: 0 },
  occlusion: { window: 16, stride: 8 },
  rise: { masks: 48, cells: 4 },
  lime: { samples: 48, segments: 12 },
  'kernel-shap': { samples: 48, segments: 12 },
  'prediction-difference': { window: 8, stride: 8, samples: 2, sampling: 'conditional', data, padding: 1 },
});
