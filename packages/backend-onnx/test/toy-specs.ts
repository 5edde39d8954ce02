import { createRng } from '@xlens/core';
import type { ToyLayer, ToySpec } from '@xlens/core/testing';

function randoms(n: number, seed: number, scale = 0.5): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => scale * rng.normal());
}

/** A small conv net touching every toy layer type, with random weights. */
export function smallToySpec(seed = 1): ToySpec {
  const layers: ToyLayer[] = [
    {
      type: 'conv',
      name: 'conv1',
      inChannels: 2,
      outChannels: 4,
      kernel: 3,
      padding: 'same',
      weight: randoms(4 * 2 * 9, seed),
      bias: randoms(4, seed + 1, 0.1),
      activation: 'relu',
    },
    {
      type: 'batchnorm',
      name: 'bn1',
      gamma: randoms(4, seed + 2).map((v) => 1 + v / 2),
      beta: randoms(4, seed + 3, 0.1),
      mean: randoms(4, seed + 4, 0.1),
      variance: randoms(4, seed + 5).map((v) => 0.5 + v * v),
      epsilon: 1e-3,
    },
    { type: 'max-pool', name: 'pool1', size: 2 },
    {
      type: 'conv',
      name: 'conv2',
      inChannels: 4,
      outChannels: 6,
      kernel: 3,
      stride: 1,
      padding: 'valid',
      weight: randoms(6 * 4 * 9, seed + 6),
      bias: randoms(6, seed + 7, 0.1),
    },
    { type: 'relu', name: 'relu2' },
    { type: 'avg-pool', name: 'pool2', size: 2 },
    { type: 'flatten', name: 'flatten' },
    {
      type: 'dense',
      name: 'fc1',
      inFeatures: 6,
      outFeatures: 5,
      weight: randoms(30, seed + 8),
      bias: randoms(5, seed + 9, 0.1),
      activation: 'relu',
    },
    {
      type: 'dense',
      name: 'fc2',
      inFeatures: 5,
      outFeatures: 3,
      weight: randoms(15, seed + 10),
      bias: randoms(3, seed + 11, 0.1),
    },
  ];
  return { name: 'small-toy', inputShape: [2, 8, 8], numClasses: 3, layers };
}
