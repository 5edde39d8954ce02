import type { ExplainContext, Tensor } from '@xlens/core';

/** One per-channel pass: channel `k` of item `b`. */
export interface ChannelJob {
  readonly b: number;
  readonly k: number;
}

/** The (item, channel) jobs of one layer, ready to be the rows of a core stream. */
export interface LayerJobs {
  /** Index of the layer in the `activations` given to `runChannelJobs`. */
  readonly layer: number;
  /** Row r of the stream is job r. */
  readonly jobs: readonly ChannelJob[];
  /** The item of each row (`jobs[r].b`), for `RowStream.items`. */
  readonly items: Int32Array;
  /** For `RowStream.progress`: folds this layer's rows into one total over all layers. */
  readonly progress: (rowsDone: number) => void;
}

/**
 * The per-(item, channel) passes of gradient-free CAMs (Ablation-CAM, Score-CAM): for each layer's
 * `N×C×h×w` activations, the channels `keep` accepts (every layer is listed first, so progress has
 * its total), then `run` once per layer, which streams the jobs as rows (`ctx.streamForward`,
 * `ctx.streamScaled`: core chunks them by `batchSize`, checks abort and calls `progress`).
 */
export async function runChannelJobs(
  ctx: ExplainContext<unknown>,
  activations: readonly Tensor[],
  keep: (a: Tensor, b: number, k: number) => boolean,
  run: (jobs: LayerJobs) => Promise<void>,
): Promise<void> {
  const jobsByLayer = activations.map((a) => {
    const [n, c] = a.shape;
    const jobs: ChannelJob[] = [];
    for (let b = 0; b < n; b++) for (let k = 0; k < c; k++) if (keep(a, b, k)) jobs.push({ b, k });
    return jobs;
  });
  const total = jobsByLayer.reduce((s, j) => s + j.length, 0);
  let offset = 0;
  for (const [layer, jobs] of jobsByLayer.entries()) {
    const before = offset;
    await run({
      layer,
      jobs,
      items: Int32Array.from(jobs, (j) => j.b),
      progress: (rowsDone) => ctx.progress(before + rowsDone, total),
    });
    offset += jobs.length;
  }
}
