/**
 * @xlens/cli — the `xlens` command. The programmatic entry `main(argv)` runs it in-process and
 * returns the exit code; the registry it uses is exported for scripts. (`.npy` reading and writing
 * is core's: `parseNpy` / `serializeNpy`, and `readNpyFile` in `@xlens/core/node`.)
 */

export { UsageError } from './args.js';
export { errorLine, main } from './main.js';
export { parseMethodSpec } from './method-spec.js';
export { createRegistry, defaultMethodIds } from './registry.js';
