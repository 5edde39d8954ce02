import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';

/** Headers that make the page cross-origin isolated, so that wasm can use threads. */
export const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** Writes dist/precache.json: every built file and a version hash, for the service worker. */
function precacheManifest(): Plugin {
  let outDir = 'dist';
  return {
    name: 'xlens-precache-manifest',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    closeBundle() {
      const files = listFiles(outDir)
        .map((f) => relative(outDir, f).split(sep).join('/'))
        .filter((f) => f !== 'precache.json' && f !== 'sw.js')
        .sort();
      const hash = createHash('sha256');
      for (const f of files) hash.update(f).update(readFileSync(join(outDir, f)));
      const manifest = { version: hash.digest('hex').slice(0, 16), files: ['./', ...files] };
      writeFileSync(join(outDir, 'precache.json'), `${JSON.stringify(manifest, null, 1)}\n`);
    },
  };
}

export default defineConfig({
  base: './',
  resolve: {
    // onnxruntime-web's build that loads its wasm glue from env.wasm.wasmPaths (the files copied to
    // public/wasm/ort/) instead of inlining it into the bundle.
    conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions],
  },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096, reportCompressedSize: false },
  plugins: [precacheManifest()],
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
});
