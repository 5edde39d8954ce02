// Packs every publishable package as it would be published and checks what a user would get:
//   1. `pnpm pack` of each package (workspace: ranges rewritten) into a temp folder;
//   2. each tarball: LICENSE (the root's Apache-2.0 text), README, package metadata (license,
//      repository, homepage, bugs, engines, no `workspace:` left), every `exports` / `main` /
//      `types` / `bin` target present, every README link resolving (relative links to a file in
//      the tarball, links into this repository on GitHub to a file in the working tree), every
//      source map's `sources` present in the tarball, and no @types/node in the declarations
//      reachable from the entries meant for browsers;
//   3. a fresh npm project that `npm install`s all the tarballs together (scripts off, as in the
//      workspace: pnpm-workspace.yaml's onlyBuiltDependencies) and `import()`s every export entry
//      of every package from plain Node, and runs each `bin` with --help;
//   4. with --lint, publint and @arethetypeswrong/cli on each tarball (fetched with npx).
// Run after a build: `pnpm build && pnpm check-pack`. Exits non-zero with a list of problems.
// Options: --keep (keep the temp folder), --lint; package names or folders limit it to those.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const keep = args.includes('--keep');
const lint = args.includes('--lint');

const REPO = 'xlens/xlens';
const BRANCH = 'main';
const repoUrl = `git+https://github.com/${REPO}.git`;
// Node-only packages (the command line, files on disk). Every other package runs in browsers too
// (backend-onnx on an injected onnxruntime-web, ADR 0008), so the declarations of its entries must
// not need @types/node; entries named ./node are their Node-only parts.
const nodeOnlyPackages = new Set(['@xlens/cli', '@xlens/zoo', '@xlens/runner']);
const nodeOnlyEntry = (sub) => sub === './node' || sub.startsWith('./node/');

const problems = [];
const fail = (pkg, msg) => problems.push(`${pkg}: ${msg}`);
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const t0 = Date.now();
const step = (msg) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${msg}`);

function sh(cmd, cmdArgs, opts = {}) {
  return execFileSync(cmd, cmdArgs, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
    ...opts,
  });
}

// pnpm: the one running this script (`pnpm check-pack`), else the repo's pinned version via npx.
const rootPkg = readJson(join(root, 'package.json'));
// biome-ignore lint/suspicious/noUndeclaredEnvVars: set by pnpm when it runs a script; not a turbo task
const pnpmCli = process.env.npm_execpath;
const pnpm = pnpmCli?.includes('pnpm') ? [process.execPath, pnpmCli] : ['npx', '-y', rootPkg.packageManager];

// Positional arguments limit the check to those packages (by name or folder): all by default.
const only = args.filter((a) => !a.startsWith('--'));
const pkgDirs = readdirSync(join(root, 'packages'))
  .map((d) => join(root, 'packages', d))
  .filter((d) => existsSync(join(d, 'package.json')) && !readJson(join(d, 'package.json')).private)
  .filter(
    (d) =>
      only.length === 0 ||
      only.some(
        (o) =>
          o === readJson(join(d, 'package.json')).name ||
          o === relative(root, d) ||
          o === relative(join(root, 'packages'), d),
      ),
  );

if (pkgDirs.length < only.length) {
  console.error(`check-pack: no publishable package matches some of ${only.join(', ')}`);
  process.exit(1);
}

const rootLicense = readFileSync(join(root, 'LICENSE'), 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'xlens-check-pack-'));
// The temp folder (tarballs, a full npm install) goes on every exit unless --keep.
process.on('exit', () => {
  if (!keep) rmSync(tmp, { recursive: true, force: true });
});
const tarballs = join(tmp, 'tarballs');
const extracted = join(tmp, 'extracted');
mkdirSync(tarballs);
mkdirSync(extracted);

/** All files under dir, as posix paths relative to it. */
function listFiles(dir, base = dir, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) listFiles(p, base, out);
    else out.push(relative(base, p).split(sep).join('/'));
  }
  return out;
}

/** Every file path string in an exports / conditions value. */
function exportTargets(value, out = []) {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) exportTargets(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) exportTargets(v, out);
  return out;
}

/** The `types` file of an exports entry, if any. */
function typesOf(value) {
  if (typeof value === 'string') return value.endsWith('.d.ts') ? value : undefined;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    if (typeof value.types === 'string') return value.types;
    for (const v of Object.values(value)) {
      const t = typesOf(v);
      if (t) return t;
    }
  }
  return undefined;
}

/** Links of a markdown file outside code: [text](url), ![alt](url), <img src>, <a href>, [ref]: url. */
function markdownLinks(md) {
  const text = md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
  const links = [];
  for (const m of text.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g))
    links.push(m[1]);
  for (const m of text.matchAll(/<(?:img|a|source)\s[^>]*?(?:src|href|srcset)="([^"]+)"/gi)) links.push(m[1]);
  for (const m of text.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) links.push(m[1]);
  return links;
}

/** Check one README link; `files` is the tarball's file set. */
function checkLink(name, link, files) {
  if (link.startsWith('#') || /^(mailto|data):/i.test(link)) return;
  const abs = link.match(
    new RegExp(
      `^https://(?:github\\.com/${REPO}/(?:blob|tree|raw)/${BRANCH}|raw\\.githubusercontent\\.com/${REPO}/${BRANCH})/([^?#]*)`,
    ),
  );
  if (abs) {
    const path = decodeURIComponent(abs[1]).replace(/\/$/, '');
    if (!existsSync(join(root, path)))
      fail(name, `README links ${link}, but ${path} is not in the repository`);
    return;
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(link) || link.startsWith('//')) return; // another site: not checked
  const path = posix.normalize(decodeURIComponent(link.replace(/[?#].*$/, ''))).replace(/\/$/, '');
  if (path.startsWith('..')) {
    fail(name, `README links ${link}, outside the package (broken on npm): use a GitHub URL`);
    return;
  }
  if (!files.has(path) && ![...files].some((f) => f.startsWith(`${path}/`)))
    fail(name, `README links ${link}, which is not in the tarball`);
}

/** Files a declaration file refers to (relative imports, references), resolved in the package. */
function declarationDeps(file, text) {
  const specs = [];
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) specs.push(m[1]);
  for (const m of text.matchAll(/\/\/\/\s*<reference\s+path="([^"]+)"/g)) specs.push(m[1]);
  const out = [];
  for (const s of specs) {
    if (!s.startsWith('.')) continue;
    const base = posix.join(posix.dirname(file), s);
    for (const c of [base.replace(/\.js$/, '.d.ts'), `${base}.d.ts`, `${base}/index.d.ts`, base])
      if (c.endsWith('.d.ts')) out.push(c);
  }
  return out;
}

const nodeBuiltins = new Set(
  (await import('node:module')).builtinModules
    .flatMap((m) => [m, `node:${m}`])
    .filter((m) => !m.includes('/_')),
);

// ---- 1. pack ------------------------------------------------------------------------------------
const packed = [];
const manifests = pkgDirs.map((dir) => ({ dir, pkg: readJson(join(dir, 'package.json')) }));
for (const { pkg, dir } of manifests)
  if (!existsSync(join(dir, 'dist'))) {
    console.error(`check-pack: ${pkg.name} has no dist/: run \`pnpm build\` first`);
    process.exit(1);
  }
step(`pnpm pack of ${pkgDirs.length} packages into ${tarballs}`);
try {
  sh(
    pnpm[0],
    [
      ...pnpm.slice(1),
      '--recursive',
      ...manifests.flatMap(({ pkg }) => ['--filter', pkg.name]),
      'pack',
      '--pack-destination',
      tarballs,
    ],
    { cwd: root },
  );
} catch (err) {
  console.error(`check-pack: pnpm pack failed:\n${err.stdout ?? ''}${err.stderr || err.message}`);
  process.exit(1);
}
for (const { dir, pkg } of manifests) {
  const tarball = join(tarballs, `${pkg.name.replace(/^@/, '').replace('/', '-')}-${pkg.version}.tgz`);
  if (!existsSync(tarball)) {
    fail(pkg.name, `pnpm pack wrote no ${tarball}`);
    continue;
  }
  const dest = join(extracted, pkg.name.replace('/', '+'));
  mkdirSync(dest);
  sh('tar', ['-xzf', tarball, '-C', dest]);
  packed.push({ dir, name: pkg.name, tarball, contents: join(dest, 'package') });
}

// ---- 2. tarball contents ------------------------------------------------------------------------
step('checking tarball contents');
for (const { dir, name, contents } of packed) {
  const files = new Set(listFiles(contents));
  const pkg = readJson(join(contents, 'package.json'));
  const folder = relative(root, dir).split(sep).join('/');

  if (!files.has('LICENSE')) fail(name, 'no LICENSE in the tarball');
  else if (readFileSync(join(contents, 'LICENSE'), 'utf8') !== rootLicense)
    fail(name, 'LICENSE differs from the root LICENSE');
  if (pkg.license !== 'Apache-2.0') fail(name, `license is ${pkg.license}, expected Apache-2.0`);
  if (pkg.repository?.url !== repoUrl || pkg.repository?.directory !== folder)
    fail(name, `repository should be { type: git, url: ${repoUrl}, directory: ${folder} }`);
  if (!pkg.homepage?.startsWith(`https://github.com/${REPO}/tree/${BRANCH}/${folder}`))
    fail(name, `homepage should point at https://github.com/${REPO}/tree/${BRANCH}/${folder}`);
  if (!pkg.bugs?.url) fail(name, 'no bugs.url');
  if (!pkg.engines?.node) fail(name, 'no engines.node');
  if (!pkg.author) fail(name, 'no author');
  if (!pkg.keywords?.length) fail(name, 'no keywords');
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies'])
    for (const [dep, range] of Object.entries(pkg[field] ?? {}))
      if (String(range).startsWith('workspace:')) fail(name, `${field}.${dep} is still ${range}`);

  for (const f of files)
    if (/\.test\.|\.tsbuildinfo$/.test(f)) fail(name, `ships a test or build-info file: ${f}`);

  // entry points
  const targets = [...exportTargets(pkg.exports ?? {}), pkg.main, pkg.types, ...Object.values(pkg.bin ?? {})];
  for (const t of targets.filter(Boolean)) {
    const p = posix.normalize(t);
    if (!files.has(p)) fail(name, `entry ${t} is not in the tarball`);
  }

  // README links
  if (!files.has('README.md')) fail(name, 'no README.md in the tarball');
  else
    for (const link of markdownLinks(readFileSync(join(contents, 'README.md'), 'utf8')))
      checkLink(name, link, files);

  // source maps: each map's sources in the tarball, each sourceMappingURL to a map in the tarball
  for (const f of files) {
    if (f.endsWith('.map')) {
      const map = readJson(join(contents, f));
      for (const s of map.sources ?? []) {
        const p = posix.normalize(posix.join(posix.dirname(f), map.sourceRoot ?? '', s));
        if (!files.has(p))
          fail(
            name,
            `${f} maps ${s}, which is not in the tarball (a stale build output? rebuild from an empty dist/)`,
          );
      }
    } else if (/\.(js|d\.ts)$/.test(f)) {
      const m = readFileSync(join(contents, f), 'utf8').match(/\/\/# sourceMappingURL=(\S+)\s*$/);
      if (m && !m[1].startsWith('data:') && !files.has(posix.normalize(posix.join(posix.dirname(f), m[1]))))
        fail(name, `${f} points at ${m[1]}, which is not in the tarball`);
    }
  }

  // browser entries: no @types/node in the declarations they reach
  if (!nodeOnlyPackages.has(name)) {
    const entries = Object.entries(pkg.exports ?? {}).filter(
      ([sub]) => !nodeOnlyEntry(sub) && sub !== './package.json',
    );
    for (const [sub, value] of entries) {
      const start = typesOf(value);
      if (!start) continue;
      const seen = new Set();
      const queue = [posix.normalize(start)];
      while (queue.length) {
        const f = queue.shift();
        if (seen.has(f) || !files.has(f)) continue;
        seen.add(f);
        const text = readFileSync(join(contents, f), 'utf8');
        if (/\/\/\/\s*<reference\s+types="node"/.test(text))
          fail(name, `${sub}: ${f} references @types/node (entry meant for browsers)`);
        for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g))
          if (nodeBuiltins.has(m[1]))
            fail(name, `${sub}: ${f} imports types from ${m[1]} (entry meant for browsers)`);
        queue.push(...declarationDeps(f, text));
      }
    }
  }
}

// ---- 3. install into a fresh npm project and import every entry ----------------------------------
const app = join(tmp, 'app');
mkdirSync(app);
writeFileSync(
  join(app, 'package.json'),
  `${JSON.stringify({ name: 'xlens-check-pack-app', version: '0.0.0', private: true, type: 'module' }, null, 2)}\n`,
);
step(`npm install of ${packed.length} tarballs into a fresh project ${app}`);
try {
  sh(
    'npm',
    [
      'install',
      '--ignore-scripts',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      ...packed.map((p) => p.tarball),
    ],
    { cwd: app },
  );
} catch (err) {
  fail('npm install', `${err.stderr || err.message}`.trim());
}
const installed = existsSync(join(app, 'node_modules'));
if (installed) {
  step('importing every export entry from plain Node');
  const specs = [];
  for (const { name, contents } of packed) {
    const pkg = readJson(join(contents, 'package.json'));
    for (const sub of Object.keys(pkg.exports ?? { '.': pkg.main })) {
      if (sub.endsWith('package.json')) continue;
      specs.push(sub === '.' ? name : `${name}/${sub.slice(2)}`);
    }
  }
  const probe = join(app, 'probe.mjs');
  writeFileSync(
    probe,
    `let failed = 0;
for (const spec of ${JSON.stringify(specs)}) {
  try {
    const mod = await import(spec);
    const n = Object.keys(mod).length;
    if (n === 0) throw new Error('no exports');
    console.log(\`ok   \${spec} (\${n} exports)\`);
  } catch (err) {
    failed++;
    console.log(\`FAIL \${spec}: \${err.message}\`);
  }
}
process.exit(failed ? 1 : 0);
`,
  );
  try {
    console.log(sh(process.execPath, [probe], { cwd: app }).trimEnd());
  } catch (err) {
    console.log(`${err.stdout ?? ''}`.trimEnd());
    fail('import', `some entries failed to import from the installed tarballs\n${err.stderr ?? ''}`.trim());
  }
  for (const { name, contents } of packed) {
    const pkg = readJson(join(contents, 'package.json'));
    for (const bin of Object.keys(pkg.bin ?? {})) {
      try {
        sh(join(app, 'node_modules', '.bin', bin), ['--help'], { cwd: app });
        console.log(`ok   ${bin} --help (${name})`);
      } catch (err) {
        fail(name, `bin ${bin} --help failed: ${err.stderr || err.message}`);
      }
    }
  }
}

// ---- 4. publint and attw --------------------------------------------------------------------------
if (lint) {
  for (const { name, tarball, contents } of packed) {
    step(`publint + attw ${name}`);
    try {
      console.log(sh('npx', ['-y', 'publint@0.3', 'run', '--strict', contents]).trimEnd());
    } catch (err) {
      fail(name, `publint:\n${err.stdout ?? ''}${err.stderr ?? ''}`.trim());
    }
    try {
      // ESM-only packages: CommonJS `require` resolution is not a goal (node16-cjs is reported as
      // "ESM (dynamic import only)", which is what they are).
      sh('npx', ['-y', '@arethetypeswrong/cli@0.18', tarball, '--profile', 'esm-only', '--format', 'ascii']);
      console.log(`attw ${name}: ok`);
    } catch (err) {
      fail(name, `attw:\n${err.stdout ?? ''}${err.stderr ?? ''}`.trim());
    }
  }
}

const size = (f) => `${(statSync(f).size / 1024).toFixed(0)} kB`;
console.log('');
for (const { name, tarball } of packed) console.log(`${name.padEnd(22)} ${size(tarball).padStart(8)}`);
if (keep) console.log(`\nkept ${tmp}`);

if (problems.length) {
  console.error(`\ncheck-pack: ${problems.length} problem(s):`);
  for (const p of problems) console.error(`  - ${p}`);
  process.exit(1);
}
console.log(`\ncheck-pack: ok, ${packed.length} packages (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
