import { createRng, type Rng } from '../ops/random.js';
import type { ToyLayer, ToySpec } from './spec.js';

/** He-normal weights (std √(2/fan-in)), the scale at which ReLU nets keep their activations alive. */
function heNormal(rng: Rng, count: number, fanIn: number): number[] {
  const out = new Float32Array(count);
  rng.fillNormal(out, 0, Math.sqrt(2 / fanIn));
  return Array.from(out);
}

/** Small biases in [−0.1, 0.1], non-zero so that bias handling is exercised. */
function smallBias(rng: Rng, count: number): number[] {
  return Array.from(rng.fillUniform(new Float32Array(count), -0.1, 0.1));
}

interface ConvOptions {
  readonly stride?: number;
  readonly padding?: 'valid' | 'same';
  readonly activation?: 'relu' | 'linear';
  readonly bias?: boolean;
}

function conv(
  rng: Rng,
  name: string,
  inC: number,
  outC: number,
  kernel: number,
  o: ConvOptions = {},
): ToyLayer {
  return {
    type: 'conv',
    name,
    inChannels: inC,
    outChannels: outC,
    kernel,
    stride: o.stride ?? 1,
    padding: o.padding ?? 'same',
    weight: heNormal(rng, outC * inC * kernel * kernel, inC * kernel * kernel),
    ...(o.bias === false ? {} : { bias: smallBias(rng, outC) }),
    activation: o.activation ?? 'linear',
  };
}

function denseLayer(
  rng: Rng,
  name: string,
  inF: number,
  outF: number,
  activation: 'relu' | 'linear',
  bias = true,
): ToyLayer {
  return {
    type: 'dense',
    name,
    inFeatures: inF,
    outFeatures: outF,
    weight: heNormal(rng, outF * inF, inF),
    ...(bias ? { bias: smallBias(rng, outF) } : {}),
    activation,
  };
}

/** `input [2, 4, 4]` → flatten → `fc1` dense 32→8 (fused ReLU) → `fc2` dense 8→3. */
export function tinyDense(seed = 1): ToySpec {
  const rng = createRng(seed, 101);
  return {
    name: 'tiny-dense',
    inputShape: [2, 4, 4],
    numClasses: 3,
    layers: [
      { type: 'flatten', name: 'flatten' },
      denseLayer(rng, 'fc1', 32, 8, 'relu'),
      denseLayer(rng, 'fc2', 8, 3, 'linear'),
    ],
  };
}

/**
 * `input [3, 8, 8]` → `conv1` 3×3 same (fused ReLU) → `pool1` max 2 → `conv2` 3×3 same → `relu2`
 * → `gap` → `fc` dense 6→5: the GAP→dense head that CAM needs, with both a fused and a separate ReLU.
 */
export function tinyCnn(seed = 2): ToySpec {
  const rng = createRng(seed, 102);
  return {
    name: 'tiny-cnn',
    inputShape: [3, 8, 8],
    numClasses: 5,
    layers: [
      conv(rng, 'conv1', 3, 4, 3, { activation: 'relu' }),
      { type: 'max-pool', name: 'pool1', size: 2 },
      conv(rng, 'conv2', 4, 6, 3),
      { type: 'relu', name: 'relu2' },
      { type: 'global-avg-pool', name: 'gap' },
      denseLayer(rng, 'fc', 6, 5, 'linear'),
    ],
  };
}

/** `input [3, 8, 8]` → `conv1` (linear) → `bn1` → `relu1` → `pool1` max 2 → `conv2` (ReLU) → `gap` → `fc` 6→4. */
export function cnnWithBatchNorm(seed = 3): ToySpec {
  const rng = createRng(seed, 103);
  const ch = 4;
  const uniform = (lo: number, hi: number): number[] =>
    Array.from(rng.fillUniform(new Float32Array(ch), lo, hi));
  return {
    name: 'cnn-with-batchnorm',
    inputShape: [3, 8, 8],
    numClasses: 4,
    layers: [
      conv(rng, 'conv1', 3, ch, 3),
      {
        type: 'batchnorm',
        name: 'bn1',
        gamma: uniform(0.5, 1.5),
        beta: uniform(-0.2, 0.2),
        mean: uniform(-0.3, 0.3),
        variance: uniform(0.5, 1.5),
        epsilon: 1e-3,
      },
      { type: 'relu', name: 'relu1' },
      { type: 'max-pool', name: 'pool1', size: 2 },
      conv(rng, 'conv2', ch, 6, 3, { activation: 'relu' }),
      { type: 'global-avg-pool', name: 'gap' },
      denseLayer(rng, 'fc', 6, 4, 'linear'),
    ],
  };
}

/**
 * A bias-free net (LRP-0 conserves relevance exactly on it): `input [2, 12, 12]` → `conv1` 3×3
 * valid (ReLU) → `pool1` max 2 → `conv2` 3×3 stride 2 valid (ReLU) → `flatten` → `fc` 24→4.
 */
export function biasFreeCnn(seed = 4): ToySpec {
  const rng = createRng(seed, 104);
  return {
    name: 'bias-free-cnn',
    inputShape: [2, 12, 12],
    numClasses: 4,
    layers: [
      conv(rng, 'conv1', 2, 4, 3, { padding: 'valid', activation: 'relu', bias: false }),
      { type: 'max-pool', name: 'pool1', size: 2 },
      conv(rng, 'conv2', 4, 6, 3, { padding: 'valid', stride: 2, activation: 'relu', bias: false }),
      { type: 'flatten', name: 'flatten' },
      denseLayer(rng, 'fc', 24, 4, 'linear', false),
    ],
  };
}

/**
 * `input [3, 16, 16]` → `conv1` 3×3 same (fused ReLU, 4) → `pool1` max 2 → `conv2` 3×3 same (fused
 * ReLU, 6) on an 8×8 grid → `gap` → `logits` dense 6→3: a GAP-headed CNN whose Grad-CAM layer has a
 * grid large enough to draw a forced map on (the explanation-manipulation tests).
 */
export function gapCnn(seed = 7): ToySpec {
  const rng = createRng(seed, 107);
  return {
    name: 'gap-cnn',
    inputShape: [3, 16, 16],
    numClasses: 3,
    layers: [
      conv(rng, 'conv1', 3, 4, 3, { activation: 'relu' }),
      { type: 'max-pool', name: 'pool1', size: 2 },
      conv(rng, 'conv2', 4, 6, 3, { activation: 'relu' }),
      { type: 'global-avg-pool', name: 'gap' },
      denseLayer(rng, 'logits', 6, 3, 'linear'),
    ],
  };
}

/**
 * `input [3, 8, 8]` → `conv1` 3×3 same (ReLU) → `pool1` avg 2 → `conv2` 3×3 valid (ReLU) →
 * `flatten` → `fc1` 20→8 (ReLU) → `fc2` 8→3.
 */
export function avgPoolCnn(seed = 5): ToySpec {
  const rng = createRng(seed, 105);
  return {
    name: 'avg-pool-cnn',
    inputShape: [3, 8, 8],
    numClasses: 3,
    layers: [
      conv(rng, 'conv1', 3, 4, 3, { activation: 'relu' }),
      { type: 'avg-pool', name: 'pool1', size: 2 },
      conv(rng, 'conv2', 4, 5, 3, { padding: 'valid', activation: 'relu' }),
      { type: 'flatten', name: 'flatten' },
      denseLayer(rng, 'fc1', 20, 8, 'relu'),
      denseLayer(rng, 'fc2', 8, 3, 'linear'),
    ],
  };
}

/**
 * A residual block in the style of ResNet's BasicBlock, without the ReLU inside the block so
 * that a conv reads inputs of both signs: `input [3, 8, 8]` → `conv1` 3×3 same → `bn1` →
 * `conv2` 3×3 same (reads `bn1`, of both signs) → `bn2` → `add` (+ `bn1`) → `relu` → `gap` →
 * `fc` 4→5. The residual branch `bn2` is often negative where the sum is positive, and the
 * convolutions' outputs have both signs: the ground where the generalised γ rule differs from
 * the classic one.
 */
export function residualCnn(seed = 6): ToySpec {
  const rng = createRng(seed, 106);
  const ch = 4;
  const uniform = (lo: number, hi: number): number[] =>
    Array.from(rng.fillUniform(new Float32Array(ch), lo, hi));
  const bn = (name: string): ToyLayer => ({
    type: 'batchnorm',
    name,
    gamma: uniform(0.5, 1.5),
    beta: uniform(-0.3, 0.3),
    mean: uniform(-0.3, 0.3),
    variance: uniform(0.5, 1.5),
    epsilon: 1e-3,
  });
  return {
    name: 'residual-cnn',
    inputShape: [3, 8, 8],
    numClasses: 5,
    layers: [
      conv(rng, 'conv1', 3, ch, 3),
      bn('bn1'),
      conv(rng, 'conv2', ch, ch, 3),
      bn('bn2'),
      { type: 'add', name: 'add', from: 'bn1' },
      { type: 'relu', name: 'relu' },
      { type: 'global-avg-pool', name: 'gap' },
      denseLayer(rng, 'fc', ch, 5, 'linear'),
    ],
  };
}

/** Every toy net factory with its default seed, for tests that sweep them all. */
export const toyNets: readonly (() => ToySpec)[] = [
  tinyDense,
  tinyCnn,
  cnnWithBatchNorm,
  biasFreeCnn,
  avgPoolCnn,
  residualCnn,
];
