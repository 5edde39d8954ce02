// Release-plan check: in a throwaway git copy of the workspace manifests (root package.json,
// pnpm-workspace.yaml, .changeset/config.json and every workspace package.json, as they are in the
// working tree), add a changeset (`'@xlens/core': minor`, then `patch`, then a minor of a leaf
// package), run `changeset status` and `changeset version` with the repo's own changesets CLI (with
// the patch of pnpm-workspace.yaml's `patchedDependencies`), and check that
//   - the `fixed` group of .changeset/config.json (names or globs) holds every publishable package,
//   - every publishable package moves to the same next version (0.1.0 -> 0.2.0), none to 1.0.0,
//   - every internal dependency and peer range (`workspace:^` as pnpm publishes it) accepts the
//     new versions.
// Without the patch, or with a package outside the group, packages go to 1.0.0 and this fails.
// Usage: node scripts/check-changesets.mjs [--keep]   (--keep leaves the temp copy for inspection)
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const keep = process.argv.includes('--keep');
const changesetBin = join(root, 'node_modules', '@changesets', 'cli', 'bin.js');
const cliRequire = createRequire(
  realpathSync(join(root, 'node_modules', '@changesets', 'cli', 'package.json')),
);
const semver = cliRequire('semver');

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const problems = [];
const fail = (msg) => problems.push(msg);

/** Workspace package folders (relative to the root) from pnpm-workspace.yaml's `packages:` list. */
function workspaceDirs() {
  const yaml = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8');
  const dirs = [];
  let inPackages = false;
  for (const line of yaml.split('\n')) {
    if (/^packages:/.test(line)) inPackages = true;
    else if (/^\S/.test(line)) inPackages = false;
    else if (inPackages) {
      const m = line.match(/^\s+-\s+['"]?([^'"#\s]+)/);
      if (!m) continue;
      const pattern = m[1];
      if (pattern.endsWith('/*')) {
        const base = pattern.slice(0, -2);
        for (const d of readdirSync(join(root, base), { withFileTypes: true }))
          if (d.isDirectory() && existsSync(join(root, base, d.name, 'package.json')))
            dirs.push(`${base}/${d.name}`);
      } else if (existsSync(join(root, pattern, 'package.json'))) dirs.push(pattern);
    }
  }
  return dirs;
}

const dirs = workspaceDirs();
const manifests = new Map(dirs.map((d) => [d, readJson(join(root, d, 'package.json'))]));
const publishable = [...manifests.values()].filter((p) => !p.private).map((p) => p.name);
const config = readJson(join(root, '.changeset', 'config.json'));

// The fixed group must hold every publishable package (names or micromatch globs, as changesets
// reads them; private packages matched by a glob are skipped, privatePackages.version being false):
// a package left out would be bumped on its own, and out of step with the others.
const configRequire = createRequire(realpathSync(cliRequire.resolve('@changesets/config')));
const micromatch = configRequire('micromatch');
const allNames = [...manifests.values()].map((p) => p.name);
const group =
  (config.fixed ?? []).map((g) => micromatch(allNames, g)).find((g) => g.includes('@xlens/core')) ?? [];
for (const name of publishable)
  if (!group.includes(name))
    fail(`.changeset/config.json: ${name} is publishable but not in the fixed group`);
if (config.privatePackages?.version !== false)
  for (const p of manifests.values())
    if (p.private && group.includes(p.name))
      fail(
        `.changeset/config.json: private ${p.name} is in the fixed group; set privatePackages.version to false`,
      );

const tmp = mkdtempSync(join(tmpdir(), 'xlens-changesets-'));
const run = (cmd, args) =>
  execFileSync(cmd, args, {
    cwd: tmp,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CI: 'true' },
  });
try {
  for (const f of ['package.json', 'pnpm-workspace.yaml', '.changeset/config.json']) {
    mkdirSync(dirname(join(tmp, f)), { recursive: true });
    cpSync(join(root, f), join(tmp, f));
  }
  for (const d of dirs) {
    mkdirSync(join(tmp, d), { recursive: true });
    cpSync(join(root, d, 'package.json'), join(tmp, d, 'package.json'));
  }
  // The changelog generator named in the config resolves from the copy's node_modules.
  symlinkSync(join(root, 'node_modules'), join(tmp, 'node_modules'), 'dir');
  writeFileSync(join(tmp, '.gitignore'), 'node_modules\n');
  const git = ['-c', 'user.name=check', '-c', 'user.email=check@localhost', '-c', 'commit.gpgsign=false'];
  run('git', ['init', '-q', '-b', 'main']);
  run('git', ['add', '-A']);
  run('git', [...git, 'commit', '-q', '-m', 'manifests']);
  const before = new Map([...manifests.values()].map((p) => [p.name, p.version]));
  const scenarios = [
    { title: "'@xlens/core': minor", releases: { '@xlens/core': 'minor' }, bump: 'minor', verbose: true },
    { title: "'@xlens/core': patch", releases: { '@xlens/core': 'patch' }, bump: 'patch' },
    {
      title: "'@xlens/cam': minor, '@xlens/core': patch",
      releases: { '@xlens/cam': 'minor', '@xlens/core': 'patch' },
      bump: 'minor',
    },
  ];
  for (const sc of scenarios) {
    run('git', ['checkout', '-q', '--', '.']);
    run('git', ['clean', '-q', '-fd']);
    const front = Object.entries(sc.releases).map(([n, t]) => `'${n}': ${t}`);
    writeFileSync(join(tmp, '.changeset', 'check.md'), `---\n${front.join('\n')}\n---\n\nA change.\n`);
    const status = run(process.execPath, [changesetBin, 'status', '--verbose']);
    if (sc.verbose) console.log(stripVTControlCharacters(status).trim());
    run(process.execPath, [changesetBin, 'status', '--output=status.json']);
    const planned = new Map(readJson(join(tmp, 'status.json')).releases.map((r) => [r.name, r]));
    run(process.execPath, [changesetBin, 'version']);
    const after = new Map(dirs.map((d) => [d, readJson(join(tmp, d, 'package.json'))]));
    const versions = new Map([...after.values()].map((p) => [p.name, p.version]));
    const expected = semver.inc(before.get('@xlens/core'), sc.bump);
    const problemsBefore = problems.length;
    for (const name of publishable) {
      const v = versions.get(name);
      const r = planned.get(name);
      const where = `[${sc.title}] ${name}`;
      if (!r) fail(`${where}: not in the release plan`);
      else if (r.newVersion !== v) fail(`${where}: status planned ${r.newVersion}, version wrote ${v}`);
      if (semver.major(before.get(name)) === 0 && semver.major(v) !== 0)
        fail(`${where}: ${before.get(name)} -> ${v} leaves 0.x`);
      if (v !== expected)
        fail(
          `${where}: ${before.get(name)} -> ${v}, expected ${expected} (the fixed group's next ${sc.bump})`,
        );
    }
    for (const [d, p] of after) {
      if (p.private) continue;
      for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
        for (const [dep, spec] of Object.entries(p[field] ?? {})) {
          if (!versions.has(dep)) continue;
          const v = versions.get(dep);
          // As pnpm publishes it: workspace:^ -> ^v, workspace:~ -> ~v, workspace:* -> v, workspace:<range> -> <range>.
          let range = spec;
          if (spec.startsWith('workspace:')) {
            const w = spec.slice('workspace:'.length);
            range = w === '^' || w === '~' ? `${w}${v}` : w === '*' ? v : w;
          }
          if (!semver.satisfies(v, range))
            fail(
              `[${sc.title}] ${d}: ${field}.${dep} "${spec}" (published as "${range}") does not accept ${v}`,
            );
        }
      }
    }
    const moves = [...new Set(publishable.map((n) => `${before.get(n)} -> ${versions.get(n)}`))].join(', ');
    console.log(
      `${problems.length === problemsBefore ? 'ok  ' : 'FAIL'} ${sc.title}: ${publishable.length} packages ${moves}`,
    );
  }
} catch (err) {
  fail(`changeset run failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
} finally {
  if (keep) console.log(`\nkept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}

if (problems.length) {
  console.error(`\ncheck-changesets: ${problems.length} problem(s):`);
  for (const p of problems) console.error(`  - ${p}`);
  process.exit(1);
}
console.log(
  `check-changesets: ok, the fixed group of ${publishable.length} packages moves together within 0.x`,
);
