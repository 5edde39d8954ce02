/**
 * @xlens/cli — the `xlens` command. The programmatic entry `main(argv)` runs it in-process and
 * returns the exit code; the registry it uses and the small `.npy` codec are exported for scripts.
 */

export { UsageError } from './args.js';
export { errorLine, main } from './main.js';
export { parseMethodSpec } from './method-spec.js';
export { decodeNpy, encodeNpy } from './npy.js';
export { createRegistry, defaultMethodIds } from './registry.js';
