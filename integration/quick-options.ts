import { fromFunction, type Model, type Tensor } from '@xlens/core';

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
  'meaningful-perturbation': { steps: 4, cells: 8 },
  'extremal-perturbation': { steps: 4, areas: [0.1], stride: 8 },
  fgvis: { steps: 3 },
});

/**
 * A stand-in masking model for real-time saliency on any image model: for each class k, a 4×4
 * grid of sigmoids of the block means of the image shifted by k/10 (NHWC-flattened, as the zoo's
 * maskers). The zoo's trained `shapes-masker` has its own tests (mask-optimisation.test.ts); this
 * one lets the loops over every method run real-time saliency on models that have no masker.
 */
export function toyMasker(model: Model): Model {
  const k = model.info.numClasses;
  const [a, b, c] = model.info.inputShape;
  const [h, w] = model.info.layout === 'NCHW' ? [b, c] : [a, b];
  const per = a * b * c;
  return fromFunction(
    (x: Tensor) => {
      const n = x.shape[0];
      const out = new Float32Array(n * 16 * k);
      for (let i = 0; i < n; i++) {
        const means = new Float64Array(16);
        for (let e = 0; e < per; e++) {
          const p = model.info.layout === 'NCHW' ? e % (h * w) : Math.floor(e / (per / (h * w)));
          const cell = Math.floor((Math.floor(p / w) * 4) / h) * 4 + Math.floor(((p % w) * 4) / w);
          means[cell] += (x.data[i * per + e] * 16) / per;
        }
        for (let q = 0; q < 16; q++)
          for (let j = 0; j < k; j++) out[i * 16 * k + q * k + j] = 1 / (1 + Math.exp(-(means[q] - j / 10)));
      }
      return out;
    },
    { ...model.info, name: 'toy-masker', numClasses: 16 * k, labels: undefined },
  );
}

/** The masker option for real-time saliency (a `toyMasker`), nothing for other methods. */
export const maskerFor = (id: string, model: Model): Record<string, unknown> =>
  id === 'real-time-saliency' ? { masker: toyMasker(model) } : {};
