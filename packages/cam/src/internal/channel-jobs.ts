import type { ExplainContext, Tensor } from '@xlens/core';

/** One per-channel pass: channel `k` of item `b`. */
export interface ChannelJob {
  readonly b: number;
  readonly k: number;
}

/**
 * The per-(item, channel) passes of gradient-free CAMs (Ablation-CAM, Score-CAM): for each layer's
 * `N×C×h×w` activations, the channels `keep` accepts (all layers are listed first, so progress has
 * its total), then `run` on chunks of at most `ctx.batchSize` jobs of one layer at a time, with
 * `ctx.progress(jobsDone, jobsTotal)` after each chunk.
 */
export async function runChannelJobs(
  ctx: ExplainContext<unknown>,
  activations: readonly Tensor[],
  keep: (a: Tensor, b: number, k: number) => boolean,
  run: (layerIndex: number, chunk: readonly ChannelJob[]) => Promise<void>,
): Promise<void> {
  const jobsByLayer = activations.map((a) => {
    const [n, c] = a.shape;
    const jobs: ChannelJob[] = [];
    for (let b = 0; b < n; b++) for (let k = 0; k < c; k++) if (keep(a, b, k)) jobs.push({ b, k });
    return jobs;
  });
  const total = jobsByLayer.reduce((s, j) => s + j.length, 0);
  let done = 0;
  for (const [li, jobs] of jobsByLayer.entries()) {
    for (let s = 0; s < jobs.length; s += ctx.batchSize) {
      ctx.checkAborted();
      const chunk = jobs.slice(s, s + ctx.batchSize);
      await run(li, chunk);
      done += chunk.length;
      ctx.progress(done, total);
    }
  }
}
