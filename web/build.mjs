// Builds the dashboard into a directory (default ../build/web): bundles
// src/main.js (and its CSS) with esbuild under content-hashed names and
// writes index.html pointing at them. Usage: node build.mjs [outdir]
import { build } from 'esbuild';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(process.argv[2] || path.join(here, '..', 'build', 'web'));
const assets = path.join(out, 'assets');

await rm(assets, { recursive: true, force: true });
await mkdir(assets, { recursive: true });
const result = await build({
  entryPoints: [path.join(here, 'src', 'main.js')],
  bundle: true,
  format: 'esm',
  minify: true,
  sourcemap: 'linked',
  target: ['es2020'],
  outdir: assets,
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  loader: { '.png': 'file', '.svg': 'file' },
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
});

// The CSS that main.js imports comes out beside it; esbuild names it in
// the JS output's cssBundle.
const rel = (f) => path.relative(out, path.resolve(f)).split(path.sep).join('/');
const entry = Object.entries(result.metafile.outputs)
  .find(([file, o]) => o.entryPoint && file.endsWith('.js'));
if (!entry || !entry[1].cssBundle) {
  throw new Error('esbuild produced no JS entry with a CSS bundle');
}
const html = (await readFile(path.join(here, 'index.html'), 'utf8'))
  .replace('{{JS}}', `/${rel(entry[0])}`)
  .replace('{{CSS}}', `/${rel(entry[1].cssBundle)}`);
await writeFile(path.join(out, 'index.html'), html);
