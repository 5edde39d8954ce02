// The entry of one worker thread: one model session, computing the units its pool sends.
import { parentPort, workerData } from 'node:worker_threads';
import { UnitComputer } from './compute.js';
import type { EvaluationPlan, WorkUnit } from './plan.js';

const { plan, intraOpThreads } = workerData as { plan: EvaluationPlan; intraOpThreads?: number };
const computer = new UnitComputer(plan, { intraOpThreads });
const port = parentPort!;

port.on('message', async (msg: { id: number; unit: WorkUnit } | { close: true }) => {
  if ('close' in msg) {
    await computer.dispose();
    port.close();
    return;
  }
  try {
    port.postMessage({ id: msg.id, result: await computer.run(msg.unit) });
  } catch (e) {
    port.postMessage({ id: msg.id, error: (e as Error).message ?? String(e) });
  }
});
