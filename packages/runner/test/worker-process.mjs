// A queue worker in its own process, as `xlens worker` runs it: node worker-process.mjs URL NAME
// THREADS LOCK_MS STALL_MS. Prints one line per unit event ("start KEY", "done KEY") on stdout.
import { runQueueWorker } from '../dist/index.js';

const [url, name, threads, lockDuration, stalledInterval] = process.argv.slice(2);
const handle = await runQueueWorker({
  url,
  name,
  threads: Number(threads),
  lockDuration: Number(lockDuration),
  stalledInterval: Number(stalledInterval),
  onEvent: (e) => process.stdout.write(`${e.type} ${e.unit.key}${e.message ? ` ${e.message}` : ''}\n`),
});
process.stdout.write('ready\n');
process.on('SIGTERM', async () => {
  await handle.close();
  process.exit(0);
});
