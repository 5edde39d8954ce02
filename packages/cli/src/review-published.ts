/**
 * The published values `xlens evaluate --suite review` compares with, transcribed from the review
 * the project implements: Mohamed, Sirlantzis & Howells, 2022, "A review of visualisation-as-
 * explanation techniques for convolutional neural networks and their evaluation", Displays 73,
 * 102239, doi:10.1016/j.displa.2022.102239 — Table 1 (localisation error on the ImageNet
 * validation set, GoogLeNet, 95%-energy box, IoU > 0.5; collected there from Fong & Vedaldi 2017,
 * Dabkowski & Gal 2017, Cao et al. 2015 and Zhang et al. 2018) and Table 3 (sanity-check verdicts
 * collected from Adebayo et al. 2018 and Kindermans et al. 2017). Rows map to xlens method ids;
 * rows xlens does not implement keep `methods: []`.
 */

/** Where the values come from. */
export const publishedSource =
  'Mohamed, Sirlantzis & Howells, 2022, Displays 73:102239, doi:10.1016/j.displa.2022.102239 — Tables 1 and 3';

/** One row of Table 1. */
export interface PublishedLocalisation {
  /** The approach as the review names it, with its reference number there. */
  readonly approach: string;
  /** xlens method ids that implement it (first one is run; empty: not in xlens). */
  readonly methods: readonly string[];
  /** Localisation error in percent. */
  readonly error: number;
}

/** Table 1: localisation error (%) on the ImageNet validation set. */
export const publishedTable1: readonly PublishedLocalisation[] = [
  { approach: 'Gradients [31]', methods: ['saliency'], error: 41.7 },
  { approach: 'Guided Backpropagation [32]', methods: ['guided-backprop'], error: 42.0 },
  { approach: 'LRP [33]', methods: ['lrp'], error: 57.8 },
  { approach: 'CAM [34]', methods: ['cam'], error: 48.1 },
  { approach: 'Grad-CAM [87]', methods: ['grad-cam'], error: 47.5 },
  { approach: 'Feedback [108]', methods: [], error: 38.8 },
  { approach: 'Mask [105]', methods: ['meaningful-perturbation'], error: 43.1 },
  { approach: 'Mask [104]', methods: ['real-time-saliency'], error: 36.9 },
  { approach: 'Excitation backprop [122]', methods: [], error: 39.0 },
  { approach: 'Occlusion [29]', methods: ['occlusion'], error: 48.6 },
];

/** A published verdict: pass, fail, a condition stated in words, or not reported (`*`). */
export type PublishedVerdict = 'pass' | 'fail' | 'not reported' | 'method dependent' | 'reference dependent';

/** The three tests of Table 3, by the id of the xlens check that measures them. */
export const table3Checks = ['model-randomisation', 'data-randomisation', 'input-invariance'] as const;
export type Table3Check = (typeof table3Checks)[number];

/** One row of Table 3. */
export interface PublishedSanity {
  readonly approach: string;
  readonly method: string;
  readonly verdicts: Readonly<Record<Table3Check, PublishedVerdict>>;
}

const row = (
  approach: string,
  method: string,
  model: PublishedVerdict,
  data: PublishedVerdict,
  input: PublishedVerdict,
): PublishedSanity => ({
  approach,
  method,
  verdicts: { 'model-randomisation': model, 'data-randomisation': data, 'input-invariance': input },
});

/**
 * Table 3: test results. "Saliency method dependant" (SmoothGrad's input invariance depends on the
 * method it smooths) and "Reference point dependant" (IG, Deep Taylor) are kept as conditions; `*`
 * is "not reported".
 */
export const publishedTable3: readonly PublishedSanity[] = [
  row('Gradients', 'saliency', 'pass', 'pass', 'pass'),
  row('Gradients ⊙ Input', 'gradient-x-input', 'fail', 'fail', 'fail'),
  row('Smooth-Grad', 'smoothgrad', 'pass', 'pass', 'method dependent'),
  row('Integrated Gradients', 'integrated-gradients', 'fail', 'fail', 'reference dependent'),
  row('Guided Backpropagation', 'guided-backprop', 'fail', 'fail', 'pass'),
  row('Grad-CAM', 'grad-cam', 'pass', 'pass', 'not reported'),
  row('Grad-CAM ++', 'grad-cam-plus-plus', 'pass', 'pass', 'not reported'),
  row('Score-CAM', 'score-cam', 'pass', 'pass', 'not reported'),
  row('Guided Grad-CAM', 'guided-grad-cam', 'fail', 'fail', 'not reported'),
  row('PatternNet', 'patternnet', 'not reported', 'not reported', 'pass'),
  row('Deep Taylor Decomposition', 'deep-taylor', 'not reported', 'not reported', 'reference dependent'),
];
