// Checks that the shapes-shortcut model relies on its mark, against the clean shapes model.
import { join } from 'node:path';
import { MARK_BOX, pasteMark, SHORTCUT_DEFAULTS, shapesDataset, shortcutDataset } from '../dist/index.js';
import { accuracy, argmax, predictAll } from './cnn.mjs';
import { initTf, loadLayersModel } from './tf-setup.mjs';

const tf = await initTf();

/**
 * How much the shortcut model relies on the mark, against the clean `shapes` model: how often
 * pasting the mark on other classes' clean test images flips the prediction to the shortcut class,
 * its accuracy on clean (unmarked) images, and the share of Integrated Gradients mass on the mark
 * for marked images of the shortcut class.
 */
export async function shortcutReport(model, shortcutTest, { modelsDir, testSeed }) {
  const target = SHORTCUT_DEFAULTS.classIndex;
  const clean = await loadLayersModel(join(modelsDir, 'shapes')).catch(() => undefined);
  const cleanTest = shapesDataset({ count: 600, seed: testSeed });
  const others = [];
  cleanTest.labels.forEach((l, i) => {
    if (l !== target) others.push(i);
  });
  const pick = (set, idx) => {
    const item = 64 * 64 * 3;
    const data = new Float32Array(idx.length * item);
    idx.forEach((src, i) => {
      data.set(set.images.data.subarray(src * item, (src + 1) * item), i * item);
    });
    return { data, shape: [idx.length, 64, 64, 3] };
  };
  const otherImages = pick(cleanTest, others);
  const marked = pasteMark(otherImages);
  const flipRate = (m) => {
    const before = predictAll((x) => m.predict(x), otherImages).map(argmax);
    const after = predictAll((x) => m.predict(x), marked).map(argmax);
    let flipped = 0;
    let eligible = 0;
    before.forEach((p, i) => {
      if (p === target) return;
      eligible++;
      if (after[i] === target) flipped++;
    });
    return Number((flipped / eligible).toFixed(4));
  };
  const stars = [];
  shortcutTest.labels.forEach((l, i) => {
    if (l === target && shortcutTest.marked[i] && stars.length < 40) stars.push(i);
  });
  const starImages = pick(shortcutTest, stars);
  // The same check on clearly drawn stars (opacity 1) carrying the mark.
  const clearSet = shortcutDataset({ count: 240, seed: testSeed + 1, faintProbability: 0 });
  const clearStars = [];
  clearSet.labels.forEach((l, i) => {
    if (l === target) clearStars.push(i);
  });
  const clearImages = pick(clearSet, clearStars);
  const report = {
    flipRate: flipRate(model),
    cleanModelFlipRate: clean ? flipRate(clean) : null,
    accuracyOnUnmarkedImages: Number(
      accuracy(
        predictAll((x) => model.predict(x), cleanTest.images),
        cleanTest.labels,
      ).toFixed(4),
    ),
    inDistributionAccuracy: Number(
      accuracy(
        predictAll((x) => model.predict(x), shortcutTest.images),
        shortcutTest.labels,
      ).toFixed(4),
    ),
    integratedGradientsMassOnMark: markMass(model, starImages, target),
    cleanModelIntegratedGradientsMassOnMark: clean ? markMass(clean, starImages, target) : null,
    integratedGradientsMassOnMarkClearStars: markMass(model, clearImages, target),
    cleanModelIntegratedGradientsMassOnMarkClearStars: clean ? markMass(clean, clearImages, target) : null,
    note: 'flipRate: share of non-star test images (not already predicted star) predicted star once the mark is pasted; IG mass: share of sum |IG| (zero baseline, 32 steps, channels summed) inside the mark box, mean over 40 marked star test images from the shortcut distribution (…ClearStars: 40 marked stars drawn at full opacity)',
  };
  clean?.dispose();
  console.log('[shapes-shortcut] shortcut report', report);
  return report;
}

/** Mean share of |IG| (zero baseline, 32 midpoint steps, summed over channels) inside MARK_BOX. */
function markMass(model, images, target) {
  const [n, h, w, c] = images.shape;
  const item = h * w * c;
  const steps = 32;
  // A one-hot product rather than tf.gather: gather's gradient needs a kernel wasm lacks.
  const pick = tf.oneHot([target], model.outputs[0].shape[1]);
  const score = (x) => tf.sum(tf.mul(model.apply(x, { training: false }), pick));
  const grad = tf.grad(score);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const share = tf.tidy(() => {
      const x = tf.tensor4d(images.data.subarray(i * item, (i + 1) * item), [1, h, w, c]);
      const alphas = tf.reshape(tf.linspace(0.5 / steps, 1 - 0.5 / steps, steps), [steps, 1, 1, 1]);
      const path = tf.mul(alphas, x);
      const g = tf.mean(grad(path), 0, true);
      const attr = tf.sum(tf.abs(tf.mul(g, x)), [0, 3]);
      const [x0, y0, x1, y1] = MARK_BOX;
      const onMark = tf.sum(tf.slice(attr, [y0, x0], [y1 - y0, x1 - x0]));
      return tf.div(onMark, tf.sum(attr)).dataSync()[0];
    });
    total += share;
  }
  return Number((total / n).toFixed(4));
}
