import { type Attribution, InputError, type Tensor } from '@xlens/core';

/** The images a synthesis run kept every `snapshotEvery` steps. */
export interface Snapshot {
  readonly step: number;
  /** The batch's images at that step, in the model's layout (the map's shape). */
  readonly images: Tensor;
  /** Each item's objective value at that step. */
  readonly objective: readonly number[];
}

/**
 * The snapshots of a synthesis attribution, unflattened from `extras.snapshots` (`[S, N, …item]`),
 * `extras.snapshotSteps` and `extras.objectiveTrace`. Empty when `snapshotEvery` was 0.
 */
export function synthesisSnapshots(attribution: Pick<Attribution, 'map' | 'extras'>): Snapshot[] {
  const steps = attribution.extras.snapshotSteps as readonly number[] | undefined;
  const flat = attribution.extras.snapshots as readonly number[] | undefined;
  const trace = (attribution.extras.objectiveTrace as readonly number[] | undefined) ?? [];
  if (!steps || !flat) return [];
  const per = attribution.map.data.length;
  const n = attribution.map.shape[0];
  if (flat.length !== steps.length * per)
    throw new InputError(
      'invalid-shape',
      `extras.snapshots holds ${flat.length} values; ${steps.length} snapshots of [${attribution.map.shape.join(', ')}] need ${steps.length * per}`,
    );
  return steps.map((step, s) => ({
    step,
    images: {
      data: Float32Array.from(flat.slice(s * per, (s + 1) * per)),
      shape: [...attribution.map.shape],
    },
    objective: trace.slice(s * n, (s + 1) * n),
  }));
}
