// Import every built package's public entry points from plain Node (outside vitest), as a user
// would: a deep import that resolves under vitest can still fail under Node's ESM resolver.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
let failed = 0;
for (const dir of readdirSync(join(root, 'packages'))) {
  const pkg = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'));
  const require = createRequire(join(root, 'packages', dir, 'package.json'));
  for (const sub of Object.keys(pkg.exports ?? {})) {
    if (sub.endsWith('package.json')) continue;
    const spec = sub === '.' ? pkg.name : `${pkg.name}/${sub.slice(2)}`;
    try {
      await import(require.resolve(spec));
      console.log(`ok   ${spec}`);
    } catch (err) {
      failed++;
      console.error(`FAIL ${spec}: ${err.message}`);
    }
  }
}
process.exit(failed ? 1 : 0);
