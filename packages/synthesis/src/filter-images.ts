import { CapabilityError, type Model, type Tensor, UnsupportedError } from '@xlens/core';

/** The kernels of a convolution as images. */
export interface FilterImages {
  readonly layer: string;
  /** The kernels, canonical `O×I×kH×kW`, as read. */
  readonly weights: Tensor;
  /**
   * The same scaled into [0, 1] with 0.5 for a zero weight: `0.5 + w / (2·max|w|)`, one scale for
   * all kernels of the layer (so their strengths compare) or, with `perFilter`, one per kernel.
   * `O×I×kH×kW`: for I = 3 each kernel is an RGB image, otherwise one grey image per input channel.
   */
  readonly images: Tensor;
}

/**
 * Krizhevsky, Sutskever & Hinton, 2012, "ImageNet Classification with Deep Convolutional Neural
 * Networks", NeurIPS: the learned kernels of the first convolution shown as images. `layer`
 * defaults to the first `conv` layer. Reads the parameters through the read-only `weights`
 * capability (ADR 0006).
 */
export async function filterImages(
  model: Model,
  options: { readonly layer?: string; readonly perFilter?: boolean } = {},
): Promise<FilterImages> {
  for (const cap of ['layers', 'weights'] as const)
    if (!model.capabilities.has(cap))
      throw new CapabilityError(`filter-images needs ${cap}, which ${model.info.name} does not offer`);
  const layers = model.layers!();
  const layer = options.layer ?? layers.find((l) => l.kind === 'conv')?.name;
  if (!layer)
    throw new UnsupportedError('unsupported', `filter-images: ${model.info.name} has no conv layer`);
  const kernel = (await model.weights!([layer])).find((p) => p.role === 'weight');
  if (kernel?.shape.length !== 4)
    throw new UnsupportedError(
      'unsupported',
      `filter-images: layer ${layer} has no 4-D kernel (got ${kernel ? `[${kernel.shape.join(', ')}]` : 'none'})`,
    );
  const [o] = kernel.shape;
  const per = kernel.values.length / o;
  const images = new Float32Array(kernel.values.length);
  const scaleOf = (from: number, to: number) => {
    let m = 0;
    for (let i = from; i < to; i++) m = Math.max(m, Math.abs(kernel.values[i]));
    return m > 0 ? 1 / (2 * m) : 0;
  };
  const shared = scaleOf(0, kernel.values.length);
  for (let f = 0; f < o; f++) {
    const s = options.perFilter ? scaleOf(f * per, (f + 1) * per) : shared;
    for (let i = f * per; i < (f + 1) * per; i++) images[i] = 0.5 + kernel.values[i] * s;
  }
  return {
    layer,
    weights: { data: kernel.values, shape: [...kernel.shape] },
    images: { data: images, shape: [...kernel.shape] },
  };
}
