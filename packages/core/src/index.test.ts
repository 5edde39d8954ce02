import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** Every module the file at `path` reaches through relative imports, with the bare imports they make. */
function reach(path: URL, seen = new Map<string, string[]>()): Map<string, string[]> {
  if (seen.has(path.href)) return seen;
  const text = readFileSync(path, 'utf8');
  const specifiers = [...text.matchAll(/^(?:import|export)\b[^;]*?from\s+'([^']+)';$/gm)].map((m) => m[1]);
  seen.set(
    path.href,
    specifiers.filter((s) => !s.startsWith('.')),
  );
  for (const s of specifiers.filter((s) => s.startsWith('.')))
    reach(new URL(s.replace(/\.js$/, '.ts'), path), seen);
  return seen;
}

describe('entry points', () => {
  it('the main entry and core/testing import no node:* module (they must load in browsers)', () => {
    for (const entry of ['./index.ts', './testing/index.ts']) {
      const modules = reach(new URL(entry, import.meta.url));
      expect(modules.size).toBeGreaterThan(5);
      for (const [file, bare] of modules) expect(bare, file).toEqual([]);
    }
  });

  it('file access lives in @xlens/core/node', () => {
    const bare = [...reach(new URL('./node/index.ts', import.meta.url)).values()].flat();
    expect(bare).toContain('node:fs');
  });
});
