import { intFlag, type ParsedArgs, UsageError } from './args.js';
import type { Io } from './explain-command.js';

/**
 * `xlens worker --queue redis://host:port`: compute evaluation units from the queue on this
 * machine's worker threads until stopped (Ctrl-C or SIGTERM finish the running units first).
 */
export async function workerCommand(values: ParsedArgs['values'], io: Io): Promise<number> {
  if (values.queue === undefined) throw new UsageError('xlens worker needs --queue redis://host:port');
  const threads = intFlag('threads', values.threads, 1);
  const { runQueueWorker } = await import('@xlens/runner');
  const quiet = values.quiet === true;
  const handle = await runQueueWorker({
    url: values.queue,
    ...(threads !== undefined ? { threads } : {}),
    onEvent: (e) => {
      if (!quiet)
        io.stderr.write(
          `${new Date().toISOString()} ${e.type} items ${e.unit.start}..${e.unit.end - 1} (${e.unit.key.slice(0, 12)})${e.message ? `: ${e.message}` : ''}\n`,
        );
    },
  });
  if (!quiet) io.stderr.write(`xlens worker: waiting for units on ${values.queue}\n`);
  await new Promise<void>((resolveStop) => {
    process.once('SIGINT', resolveStop);
    process.once('SIGTERM', resolveStop);
  });
  if (!quiet) io.stderr.write('xlens worker: finishing running units\n');
  await handle.close();
  return 0;
}
