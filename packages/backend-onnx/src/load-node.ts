import { UnsupportedError } from '@xlens/core';
import { isNode } from './runtime.js';

/** The Node-only entry (`./node/index.js`), typed. */
type NodeEntry = typeof import('./node/index.js');

// A variable specifier, marked ignored: bundlers leave the Node-only entry (node:fs, node:path) out
// of browser bundles. Node and vitest resolve it relative to this module.
const nodeEntry = './node/index.js';

/**
 * The Node-only file reader, imported on first use. Outside Node.js it throws `UnsupportedError`
 * saying that `what` needs Node.js and that browsers pass the model's bytes.
 */
export async function nodeFiles(what: string): Promise<NodeEntry> {
  if (!isNode()) {
    throw new UnsupportedError(
      'unsupported',
      `${what} reads files, which needs Node.js; elsewhere pass the model's bytes (a Uint8Array)`,
    );
  }
  return (await import(/* @vite-ignore */ /* webpackIgnore: true */ nodeEntry)) as NodeEntry;
}
