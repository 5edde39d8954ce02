import { InputError, OptionError } from '../errors.js';
import { type FileSource, readFileBytes } from '../io/files.js';
import { parseNpy } from '../io/npy.js';
import type { Model } from '../model.js';
import { firstNonFinite, sizeOf, type Tensor } from '../tensor.js';
import { gaussianBlur } from './blur.js';
import type { Rng } from './random.js';

/** Named baselines (reference inputs) of path and difference methods (IG, DeepLIFT). */
export const baselineNames = ['zero', 'black', 'white', 'blur', 'uniform', 'mean'] as const;

/** One of `baselineNames`. */
export type BaselineName = (typeof baselineNames)[number];

/**
 * A baseline: a name from `baselineNames`, a constant, a path to a `.npy` file (read through a
 * `FileSource`), or a tensor. Files and tensors hold one item (`inputShape` or `1×inputShape`,
 * broadcast to every item) or one per item (`N×inputShape`), in the input's layout.
 */
export type BaselineSpec = BaselineName | number | string | Tensor;

/** What building a baseline may need besides the spec. */
export interface BaselineOptions {
  /** Standard deviation of the `blur` baseline's Gaussian, in pixels. Needed for `blur`. */
  readonly blurSigma?: number;
  /**
   * Source of the `uniform` baseline's draws (one item's worth, shared by every item); the caller
   * owns the seed. Needed for `uniform`.
   */
  readonly rng?: Rng;
  /** Where a path spec is read from. Needed for paths. */
  readonly files?: FileSource;
}

/** Whether `spec` is a path to a `.npy` file (so it can only be checked once files are available). */
export function isBaselinePath(spec: unknown): spec is string {
  return typeof spec === 'string' && spec.toLowerCase().endsWith('.npy');
}

function isTensor(v: unknown): v is Tensor {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as Tensor).data instanceof Float32Array &&
    Array.isArray((v as Tensor).shape)
  );
}

/**
 * The channel of each flat index of one item: items of rank ≥ 2 have channels on the first
 * (NCHW) or last (NHWC) axis; rank-1 items (feature vectors) are one channel.
 */
function channels(model: Model, input: Tensor): { count: number; of: (e: number) => number } {
  const item = input.shape.slice(1);
  if (item.length < 2) return { count: 1, of: () => 0 };
  if (model.info.layout === 'NCHW') {
    const inner = sizeOf(item.slice(1));
    return { count: item[0], of: (e) => Math.floor(e / inner) };
  }
  const count = item[item.length - 1];
  return { count, of: (e) => e % count };
}

/** Low/high bound of every channel from `model.info.inputRange`, for `black`/`white`/`uniform`. */
function channelBounds(model: Model, input: Tensor, name: string): readonly (readonly [number, number])[] {
  const range = model.info.inputRange;
  if (!range) {
    throw new OptionError(
      'invalid-option',
      `baseline ${name} needs model.info.inputRange (the valid input values in the model's own input space, after preprocessing) and ${model.info.name} does not declare it; set inputRange on the model, or use baseline zero, mean, blur, a number or a tensor`,
    );
  }
  const { count } = channels(model, input);
  const pairs = Array.isArray(range[0])
    ? (range as readonly (readonly [number, number])[])
    : Array.from({ length: count }, () => range as readonly [number, number]);
  if (pairs.length !== count) {
    throw new OptionError(
      'invalid-option',
      `model.info.inputRange has ${pairs.length} per-channel pairs but the input has ${count} channel(s)`,
    );
  }
  for (const [low, high] of pairs) {
    if (!Number.isFinite(low) || !Number.isFinite(high) || low > high)
      throw new OptionError(
        'invalid-option',
        `model.info.inputRange holds [${low}, ${high}]; expected finite [low, high] with low ≤ high`,
      );
  }
  return pairs;
}

/** A tensor baseline broadcast to the input's shape, after checking its shape and values. */
function broadcast(t: Tensor, input: Tensor, source: string): () => Tensor {
  const item = input.shape.slice(1);
  const n = input.shape[0];
  const per = sizeOf(item);
  const shape = t.shape;
  const tail = shape.length === item.length ? shape : shape.slice(1);
  const lead = shape.length === item.length ? 1 : shape[0];
  const fits =
    tail.length === item.length &&
    tail.every((d, i) => d === item[i]) &&
    (lead === 1 || lead === n) &&
    t.data.length === lead * per;
  if (!fits) {
    throw new InputError(
      'invalid-shape',
      `${source} has shape [${shape.join(', ')}]; expected [${item.join(', ')}], [1, ${item.join(', ')}] or [${n}, ${item.join(', ')}] (one item or the whole batch, in the input's layout)`,
    );
  }
  const bad = firstNonFinite(t.data);
  if (bad >= 0)
    throw new InputError('non-finite-input', `${source} holds ${t.data[bad]} at flat index ${bad}`);
  return () => {
    if (lead === n) return { data: t.data.slice(), shape: [...input.shape] };
    const out = new Float32Array(n * per);
    for (let i = 0; i < n; i++) out.set(t.data, i * per);
    return { data: out, shape: [...input.shape] };
  };
}

/**
 * Check `spec` against the model and input, and return how to build it: everything that can fail
 * on the user's values fails here, before any compute (a path is read here, once).
 */
function plan(
  spec: unknown,
  model: Model,
  input: Tensor,
  files: FileSource | undefined,
): (options: BaselineOptions) => Tensor {
  const shape = [...input.shape];
  if (isTensor(spec)) return broadcast(spec, input, 'baseline tensor');
  if (typeof spec === 'number') {
    if (!Number.isFinite(spec))
      throw new OptionError('invalid-option', `baseline = ${spec} is not a finite number`);
    return () => ({ data: new Float32Array(input.data.length).fill(spec), shape });
  }
  if (isBaselinePath(spec)) {
    const what = `baseline file ${spec}`;
    return broadcast(parseNpy(readFileBytes(files, spec, 'baseline file'), spec), input, what);
  }
  switch (spec) {
    case 'zero':
      return () => ({ data: new Float32Array(input.data.length), shape });
    case 'blur':
      if (input.shape.length !== 4) {
        throw new OptionError(
          'invalid-option',
          `baseline blur needs image batches (rank 4); got shape [${input.shape.join(', ')}]`,
        );
      }
      return ({ blurSigma }) => {
        if (blurSigma === undefined)
          throw new OptionError('invalid-option', 'baseline blur needs blurSigma (pixels)');
        return gaussianBlur(input, blurSigma, model.info.layout);
      };
    case 'mean': {
      const { count, of } = channels(model, input);
      return () => {
        const per = sizeOf(input.shape.slice(1));
        const out = new Float32Array(input.data.length);
        const sums = new Float64Array(count);
        const sizes = new Float64Array(count);
        for (let e = 0; e < per; e++) sizes[of(e)]++;
        for (let i = 0; i < input.shape[0]; i++) {
          sums.fill(0);
          for (let e = 0; e < per; e++) sums[of(e)] += input.data[i * per + e];
          for (let e = 0; e < per; e++) out[i * per + e] = sums[of(e)] / sizes[of(e)];
        }
        return { data: out, shape };
      };
    }
    case 'black':
    case 'white':
    case 'uniform': {
      const bounds = channelBounds(model, input, spec);
      const { of } = channels(model, input);
      return ({ rng }) => {
        if (spec === 'uniform' && !rng) {
          throw new OptionError(
            'invalid-option',
            'baseline uniform draws random values and needs an rng (the caller passes one, e.g. ctx.rng(1))',
          );
        }
        // One item's worth, copied to every item: `uniform` then gives an item the same baseline
        // whatever batch it is explained in (with an rng that does not depend on the batch).
        const per = sizeOf(input.shape.slice(1));
        const out = new Float32Array(input.data.length);
        for (let j = 0; j < per; j++) {
          const [low, high] = bounds[of(j)];
          out[j] = spec === 'black' ? low : spec === 'white' ? high : low + (high - low) * rng!.uniform();
        }
        for (let i = 1; i < input.shape[0]; i++) out.copyWithin(i * per, 0, per);
        return { data: out, shape };
      };
    }
  }
  throw new OptionError(
    'invalid-option',
    `baseline = ${JSON.stringify(spec)} is invalid; expected one of ${baselineNames.join(', ')}, a number, a path to a .npy file or a tensor`,
  );
}

/**
 * Check a baseline spec against the model and input before any compute; throws an `XlensError`
 * naming the bad value and the allowed ones. A `.npy` path is read through `files` (and refused
 * without one, with a message saying how to pass one) — a method whose `validate` has no files
 * skips paths (`isBaselinePath`) and lets `makeBaseline` check them before its first model pass.
 */
export function checkBaseline(spec: unknown, model: Model, input: Tensor, files?: FileSource): void {
  plan(spec, model, input, files);
}

/**
 * The baseline of every item, `N×inputShape` in the input's layout: zeros; the low (`black`) or
 * high (`white`) end of `model.info.inputRange`, per channel when it gives one pair per channel;
 * the input blurred by `gaussianBlur` with `blurSigma`; uniform draws in `inputRange` from `rng`
 * (one item's worth, the same for every item, so a batch does not change an item's baseline);
 * each item's per-channel mean; a constant; a `.npy` file read through `files`; or a tensor
 * (one item broadcast, or the whole batch). Checks everything `checkBaseline` checks first.
 */
export function makeBaseline(
  spec: BaselineSpec,
  model: Model,
  input: Tensor,
  options: BaselineOptions = {},
): Tensor {
  return plan(spec, model, input, options.files)(options);
}
