// Explain the bundled shapes CNN with Integrated Gradients and Grad-CAM on the tfjs wasm backend.
// Run: node examples/quickstart.mjs   (add --check to exit non-zero when a sanity check fails)
import { initTfjsBackend, loadTfjsModel } from '@xlens/backend-tfjs';
import { camMethods } from '@xlens/cam';
import { Registry } from '@xlens/core';
import { gradientMethods } from '@xlens/gradients';
import { sampleImages, zooModel, zooModelPath } from '@xlens/zoo';

await initTfjsBackend('wasm');
const meta = zooModel('shapes');
const model = await loadTfjsModel(zooModelPath('shapes', 'tfjs'), {
  labels: meta.labels,
  inputRange: [0, 1],
});
const registry = new Registry([...gradientMethods, ...camMethods]);
const { images, labels, classNames } = sampleImages('shapes', 4);

const ig = await registry
  .get('integrated-gradients')
  .explain(model, images, 'top1', { steps: 32, batchSize: 32 });
const gradCam = await registry.get('grad-cam').explain(model, images, 'top1');

const problems = [];
for (let i = 0; i < images.shape[0]; i++) {
  const gap = ig.extras.completenessGap[i];
  const predicted = classNames[ig.targets[i]];
  console.log(
    `item ${i}: true ${classNames[labels[i]]}, predicted ${predicted}, IG completeness gap ${gap.toExponential(2)}`,
  );
  if (ig.targets[i] !== labels[i]) problems.push(`item ${i} misclassified`);
  if (ig.extras.relativeCompletenessGap[i] > 0.05) problems.push(`item ${i}: IG gap too large`);
}
console.log(`grad-cam map ${gradCam.map.shape.join('×')} in ${gradCam.timing.milliseconds.toFixed(0)} ms`);
if (!gradCam.map.data.every(Number.isFinite)) problems.push('grad-cam map not finite');
await model.dispose();

if (process.argv.includes('--check') && problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
