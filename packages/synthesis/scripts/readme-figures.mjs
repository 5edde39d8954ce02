// Renders the figures of the README from the zoo shapes model and prints the numbers quoted there.
// Run after building: `node scripts/readme-figures.mjs` (about two minutes on ONNX Runtime).
import { mkdirSync, writeFileSync } from 'node:fs';
import { fromOnnx } from '@xlens/backend-onnx';
import { channelTiles, encodePng, filterTiles, getColormap, imageGrid, imageInRange } from '@xlens/viz';
import { SHAPE_CLASSES, sampleImages, shapesDataset, zooModelPath } from '@xlens/zoo';
import {
  activationGrid,
  activationMaximisation,
  conceptsFromLabels,
  dissect,
  filterImages,
  inversion,
  synthesisSnapshots,
  topPatches,
} from '../dist/index.js';

const out = new URL('../docs/', import.meta.url);
mkdirSync(out, { recursive: true });
const save = (name, image) => writeFileSync(new URL(name, out), encodePng(image));
const model = await fromOnnx(zooModelPath('shapes', 'onnx'), { inputRange: [0, 1] });
const picture = (t, i, scale = 2) => imageGrid([imageInRange(t, 'NHWC', i, 0, 1)], { scale });

// 1. Class visualisations, the image every 32 steps (default recipe, seed 0).
const grey = { data: new Float32Array(6 * 64 * 64 * 3).fill(0.5), shape: [6, 64, 64, 3] };
const classes = [0, 1, 2, 3, 4, 5];
const am = await activationMaximisation.explain(model, grey, classes, {
  steps: 256,
  snapshotEvery: 32,
  batchSize: 6,
});
const snaps = synthesisSnapshots(am);
const rows = classes.flatMap((c) => snaps.map((s) => picture(s.images, c)));
save('shapes-classes.png', imageGrid(rows, { columns: snaps.length, gap: 4 }));
save(
  'shapes-classes-final.png',
  imageGrid(
    classes.map((c) => picture(am.map, c)),
    { columns: 6, gap: 6 },
  ),
);
const logits = await model.forward(am.map);
const own = classes.map((c) => {
  const row = Array.from(logits.data.slice(c * 6, c * 6 + 6));
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  return e[c] / e.reduce((a, b) => a + b, 0);
});
console.log(`class visualisations (256 steps): p(own class) ${own.map((p) => p.toFixed(4)).join(' ')}`);

// 2. First-layer filters.
save(
  'shapes-filters.png',
  imageGrid(filterTiles((await filterImages(model)).images), { scale: 10, gap: 3, columns: 8 }),
);

// 3. Inversion of one sample at every conv layer.
const sample = sampleImages('shapes', 6);
const star = { data: sample.images.data.slice(3 * 12288, 4 * 12288), shape: [1, 64, 64, 3] };
const layers = ['conv1', 'conv2', 'conv3', 'conv4'];
const inverted = [picture(star, 0)];
for (const layer of layers) {
  const r = await inversion.explain(model, star, 0, { layer, steps: 400 });
  inverted.push(picture(r.map, 0));
  console.log(`inversion of ${layer}: normalised code error ${(-r.extras.objective[0]).toFixed(4)}`);
}
save('shapes-inversion.png', imageGrid(inverted, { columns: 5, gap: 6 }));

// 4. Activation grid of conv2 for that sample, and the top patches of four conv3 units.
const grid = await activationGrid(model, star, 'conv2');
save(
  'shapes-conv2-activations.png',
  imageGrid(channelTiles(grid.maps, 0, getColormap('ember')), { scale: 3, columns: 8 }),
);
const data = shapesDataset({ count: 600, seed: 7 });
const units = await topPatches(model, data.images, { layer: 'conv3', channels: [0, 1, 2, 3], k: 8 });
const patchTiles = units.flatMap((u) =>
  Array.from({ length: u.items.length }, (_, j) =>
    imageGrid([imageInRange(u.patches, 'NHWC', j, 0, 1)], { scale: 3 }),
  ),
);
save('shapes-conv3-top-patches.png', imageGrid(patchTiles, { columns: 8, gap: 3 }));

// 5. Dissection of conv4 against the shapes' masks.
const concepts = conceptsFromLabels(data.masks, data.labels, SHAPE_CLASSES);
for (const layer of ['conv3', 'conv4']) {
  const labels = await dissect(model, data.images, { layer, concepts });
  const counts = {};
  for (const u of labels) counts[u.label] = (counts[u.label] ?? 0) + 1;
  const best = [...labels].sort((a, b) => b.iou - a.iou).slice(0, 3);
  console.log(
    `dissection of ${layer} (${labels.length} units): ${JSON.stringify(counts)}; best ${best.map((u) => `unit ${u.unit} ${u.label} IoU ${u.iou.toFixed(3)}`).join(', ')}`,
  );
}
await model.dispose();
