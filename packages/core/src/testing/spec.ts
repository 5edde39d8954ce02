/**
 * A small sequential network (with optional residual additions) described once, backend-neutrally, so that every backend can build
 * it and the same attributions can be expected everywhere. All tensors are channels-first and
 * row-major: conv weights `O×I×kH×kW`, dense weights `out×in`, input item `[C, H, W]`.
 * `flatten` flattens in channels-first (C, H, W) order; a channels-last backend must permute the
 * following dense layer's weights accordingly.
 */
export type ToyLayer =
  | {
      readonly type: 'conv';
      readonly name: string;
      readonly inChannels: number;
      readonly outChannels: number;
      readonly kernel: number;
      readonly stride?: number;
      /** `valid` (no padding) or `same` (stride 1 only: pad (k−1)/2 each side, k odd). */
      readonly padding?: 'valid' | 'same';
      readonly weight: readonly number[];
      readonly bias?: readonly number[];
      /** Fused activation applied after the bias. */
      readonly activation?: 'relu' | 'linear';
    }
  | {
      readonly type: 'dense';
      readonly name: string;
      readonly inFeatures: number;
      readonly outFeatures: number;
      readonly weight: readonly number[];
      readonly bias?: readonly number[];
      readonly activation?: 'relu' | 'linear';
    }
  | { readonly type: 'relu'; readonly name: string }
  | { readonly type: 'max-pool'; readonly name: string; readonly size: number }
  | { readonly type: 'avg-pool'; readonly name: string; readonly size: number }
  | { readonly type: 'global-avg-pool'; readonly name: string }
  | { readonly type: 'flatten'; readonly name: string }
  /**
   * Residual addition: the previous layer's output plus the output of the earlier layer `from`
   * (or `input`), of the same shape. Carries no rule: its gradient passes the cotangent to both
   * addends, which splits relevance in proportion to them.
   */
  | { readonly type: 'add'; readonly name: string; readonly from: string }
  | {
      readonly type: 'batchnorm';
      readonly name: string;
      readonly gamma: readonly number[];
      readonly beta: readonly number[];
      readonly mean: readonly number[];
      readonly variance: readonly number[];
      readonly epsilon: number;
    };

/** A sequential toy network; `add` layers reach back to earlier outputs. */
export interface ToySpec {
  readonly name: string;
  /** One input item, channels-first `[C, H, W]`. */
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  readonly layers: readonly ToyLayer[];
}
