// The zoo's small CNNs as tfjs code: seeded parameters, the training forward with batch norm,
// folding batch norm into plain convs, the shipped LayersModel, and batch helpers.
import { createRng } from '@xlens/core';
import { fastConv, fillBoxMuller, initTf } from './tf-setup.mjs';

const tf = await initTf();

/**
 * Trainable parameters from a seeded RNG (not tfjs's global random): He-normal conv kernels, each
 * followed in training by batch normalisation (γ, β) — it makes these nets converge in a few
 * epochs instead of dozens — and a dense layer. The conv bias is left out: BN's β replaces it.
 */
export function initParams(spec) {
  const rng = createRng(spec.seed, 0);
  const params = [];
  let cin = spec.inputShape[2];
  for (const [kind, filters] of spec.layers) {
    if (kind !== 'conv') continue;
    const w = new Float32Array(9 * cin * filters);
    fillBoxMuller(rng, w, Math.sqrt(2 / (9 * cin)));
    params.push({
      kind,
      w: tf.variable(tf.tensor4d(w, [3, 3, cin, filters])),
      gamma: tf.variable(tf.ones([filters])),
      beta: tf.variable(tf.zeros([filters])),
    });
    cin = filters;
  }
  const k = spec.labels.length;
  const w = new Float32Array(cin * k);
  fillBoxMuller(rng, w, Math.sqrt(1 / cin));
  params.push({ kind: 'dense', w: tf.variable(tf.tensor2d(w, [cin, k])), b: tf.variable(tf.zeros([k])) });
  return params;
}

const BN_EPSILON = 1e-3;

/** The training forward: conv → batch norm (batch statistics) → ReLU, max-pools, GAP, dense. */
export function trainForward(spec, params, x) {
  let h = x;
  let p = 0;
  for (const [kind] of spec.layers) {
    if (kind === 'conv') {
      const { w, gamma, beta } = params[p++];
      const z = fastConv(h, w);
      const { mean, variance } = tf.moments(z, [0, 1, 2]);
      h = tf.relu(
        tf.add(tf.mul(tf.div(tf.sub(z, mean), tf.sqrt(tf.add(variance, BN_EPSILON))), gamma), beta),
      );
    } else {
      h = tf.maxPool(h, 2, 2, 'valid');
    }
  }
  return tf.add(tf.matMul(tf.mean(h, [1, 2]), params[p].w), params[p].b);
}

/**
 * Fold batch normalisation into plain conv weights and biases, with population statistics measured
 * layer by layer on `calibration` images (each layer's statistics under the already folded layers
 * before it): W' = W·γ/√(σ²+ε), b' = β − μ·γ/√(σ²+ε). The result is the conv+ReLU net that ships.
 */
export function foldBatchNorm(spec, params, calibration) {
  const batches = [];
  for (let s = 0; s < calibration.shape[0]; s += 128) {
    const e = Math.min(calibration.shape[0], s + 128);
    batches.push(tf.slice(calibration, [s], [e - s]));
  }
  let hs = batches;
  const folded = [];
  let p = 0;
  for (const [kind] of spec.layers) {
    let next;
    if (kind === 'conv') {
      const { w, gamma, beta } = params[p++];
      const zs = hs.map((h) => tf.conv2d(h, w, 1, 'same'));
      const stats = tf.tidy(() => {
        const count = zs.reduce((n, z) => n + z.shape[0], 0);
        let mean = tf.zeros([w.shape[3]]);
        let square = tf.zeros([w.shape[3]]);
        for (const z of zs) {
          const m = tf.moments(z, [0, 1, 2]);
          const weight = z.shape[0] / count;
          mean = tf.add(mean, tf.mul(m.mean, weight));
          square = tf.add(square, tf.mul(tf.add(m.variance, tf.square(m.mean)), weight));
        }
        const scale = tf.div(gamma, tf.sqrt(tf.add(tf.sub(square, tf.square(mean)), BN_EPSILON)));
        return { w: tf.mul(w, scale), b: tf.sub(beta, tf.mul(mean, scale)) };
      });
      folded.push(stats);
      next = hs.map((h) => tf.tidy(() => tf.relu(tf.add(tf.conv2d(h, stats.w, 1, 'same'), stats.b))));
      tf.dispose(zs);
    } else {
      next = hs.map((h) => tf.maxPool(h, 2, 2, 'valid'));
    }
    if (hs !== batches) tf.dispose(hs);
    hs = next;
  }
  tf.dispose(hs);
  tf.dispose(batches);
  folded.push({ w: params[p].w.clone(), b: params[p].b.clone() });
  return folded;
}

/** The shipped network's forward (folded conv + bias + ReLU), for evaluation. */
export function foldedForward(spec, folded, x) {
  let h = x;
  let p = 0;
  for (const [kind] of spec.layers) {
    if (kind === 'conv') {
      h = tf.relu(tf.add(tf.conv2d(h, folded[p].w, 1, 'same'), folded[p].b));
      p++;
    } else {
      h = tf.maxPool(h, 2, 2, 'valid');
    }
  }
  return tf.add(tf.matMul(tf.mean(h, [1, 2]), folded[p].w), folded[p].b);
}

/** Fold with the first `count` training images. */
export function foldWith(spec, params, trainSet, wanted) {
  const count = Math.min(wanted, trainSet.labels.length);
  const item = spec.inputShape.reduce((a, b) => a * b, 1);
  const calibration = tf.tensor4d(trainSet.images.data.subarray(0, count * item), [
    count,
    ...spec.inputShape,
  ]);
  const folded = foldBatchNorm(spec, params, calibration);
  calibration.dispose();
  return folded;
}

/** The same network as a tfjs LayersModel (functional, named layers) carrying the trained weights. */
export function buildLayersModel(name, spec, folded) {
  const input = tf.input({ shape: spec.inputShape, name: 'input' });
  let h = input;
  let c = 0;
  let q = 0;
  for (const [kind, filters] of spec.layers) {
    if (kind === 'conv') {
      c++;
      h = tf.layers
        .conv2d({ name: `conv${c}`, filters, kernelSize: 3, padding: 'same', activation: 'relu' })
        .apply(h);
    } else {
      q++;
      h = tf.layers.maxPooling2d({ name: `pool${q}`, poolSize: 2, strides: 2 }).apply(h);
    }
  }
  h = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(h);
  const out = tf.layers.dense({ name: 'logits', units: spec.labels.length }).apply(h);
  const model = tf.model({ inputs: input, outputs: out, name: name.replace(/-/g, '_') });
  model.setWeights(folded.flatMap((layer) => [layer.w, layer.b]));
  return model;
}

/** Copy items `idx` of an NHWC Float32Array into a batch, optionally shifted by up to ±`shift` px. */
export function gather(images, shape, idx, rng, shift = 0) {
  const [h, w, c] = shape;
  const item = h * w * c;
  const out = new Float32Array(idx.length * item);
  idx.forEach((src, i) => {
    if (!shift) {
      out.set(images.subarray(src * item, (src + 1) * item), i * item);
      return;
    }
    const dy = rng.int(2 * shift + 1) - shift;
    const dx = rng.int(2 * shift + 1) - shift;
    for (let y = 0; y < h; y++) {
      const sy = y - dy;
      if (sy < 0 || sy >= h) continue;
      for (let x = 0; x < w; x++) {
        const sx = x - dx;
        if (sx < 0 || sx >= w) continue;
        for (let ch = 0; ch < c; ch++)
          out[i * item + (y * w + x) * c + ch] = images[src * item + (sy * w + sx) * c + ch];
      }
    }
  });
  return tf.tensor4d(out, [idx.length, h, w, c]);
}

/** Logits of every item, in batches. */
export function predictAll(fn, images, batch = 200) {
  const [n, h, w, c] = images.shape;
  const item = h * w * c;
  const out = [];
  for (let s = 0; s < n; s += batch) {
    const e = Math.min(n, s + batch);
    const x = tf.tensor4d(images.data.subarray(s * item, e * item), [e - s, h, w, c]);
    const y = tf.tidy(() => fn(x));
    out.push(...y.arraySync());
    tf.dispose([x, y]);
  }
  return out;
}

export const argmax = (row) => row.indexOf(Math.max(...row));

export function accuracy(logits, labels) {
  let ok = 0;
  logits.forEach((row, i) => {
    if (argmax(row) === labels[i]) ok++;
  });
  return ok / labels.length;
}

export function describe(spec) {
  const parts = spec.layers.map(([kind, f]) => (kind === 'conv' ? `conv3x3-${f}-relu` : 'maxpool2'));
  return [...parts, 'global-avg-pool', `dense-${spec.labels.length}`].join(' > ');
}
