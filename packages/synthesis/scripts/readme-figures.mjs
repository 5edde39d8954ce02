// Renders the figures of the README from the zoo shapes model and prints the numbers quoted there.
// Run after building: `node scripts/readme-figures.mjs` (about three minutes on ONNX Runtime);
// `node scripts/readme-figures.mjs dgn-am` renders the DGN-AM figure alone.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fromOnnx } from '@xlens/backend-onnx';
import { initTfjsBackend, loadTfjsModel } from '@xlens/backend-tfjs';
import { channelTiles, encodePng, filterTiles, getColormap, imageGrid, imageInRange } from '@xlens/viz';
import { SHAPE_CLASSES, sampleImages, shapesDataset, zooGeneratorPath, zooModelPath } from '@xlens/zoo';
import {
  activationGrid,
  activationMaximisation,
  conceptsFromLabels,
  dgnAm,
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
const only = process.argv[2];
const probabilityOfOwn = async (images) => {
  const logits = await model.forward(images);
  return Array.from({ length: images.shape[0] }, (_, c) => {
    const row = Array.from(logits.data.slice(c * 6, c * 6 + 6));
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    return e[c] / e.reduce((a, b) => a + b, 0);
  });
};

if (!only || only === 'dgn-am') {
  // DGN-AM: the zoo generator's reconstructions of real conv3 codes, then one image per class.
  await initTfjsBackend('wasm');
  const generator = await loadTfjsModel(zooGeneratorPath());
  const real = sampleImages('shapes', 6).images;
  const { activations } = await model.capture(real, ['conv3']);
  const a = activations.conv3.data;
  const codes = new Float32Array(a.length);
  for (let i = 0; i < 6; i++)
    for (let k = 0; k < 64; k++)
      for (let p = 0; p < 256; p++) codes[i * 16384 + p * 64 + k] = a[i * 16384 + k * 256 + p];
  const decoded = await generator.forward({ data: codes, shape: [6, 16, 16, 64] });
  const rebuilt = { data: decoded.data, shape: [6, 64, 64, 3] };
  const grey = { data: new Float32Array(6 * 12288).fill(0.5), shape: [6, 64, 64, 3] };
  const dgn = await dgnAm(generator).explain(model, grey, [0, 1, 2, 3, 4, 5], {
    steps: 120,
    codeRange: [0, 4],
    batchSize: 6,
  });
  const tiles = [real, rebuilt, dgn.map].flatMap((t) => [0, 1, 2, 3, 4, 5].map((i) => picture(t, i)));
  save('shapes-dgn-am.png', imageGrid(tiles, { columns: 6, gap: 4 }));
  const own = await probabilityOfOwn(dgn.map);
  console.log(`DGN-AM (120 steps): p(own class) ${own.map((p) => p.toFixed(4)).join(' ')}`);
  await generator.dispose();
}
if (only === 'dgn-am') {
  await model.dispose();
  process.exit(0);
}

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
const own = await probabilityOfOwn(am.map);
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
