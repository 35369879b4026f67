/**
 * Builds the web console into dist/web (or the directory given): one bundle of web/src with esbuild,
 * plus index.html and the style sheets. `npm run build` (and so `npm start`) runs it; the tests call
 * `buildWeb` from their global set-up.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { projectRoot } from '../infra/paths';

export async function buildWeb(outDir = path.join(projectRoot(), 'dist', 'web')): Promise<string> {
  const web = path.join(projectRoot(), 'web');
  fs.mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [path.join(web, 'src', 'main.tsx')],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: true,
    outfile: path.join(outDir, 'app.js'),
    logLevel: 'warning',
    legalComments: 'none',
  });
  for (const f of fs.readdirSync(web)) if (f === 'index.html' || f.endsWith('.css') || f.endsWith('.webmanifest')) fs.copyFileSync(path.join(web, f), path.join(outDir, f));
  fs.cpSync(path.join(web, 'icons'), path.join(outDir, 'icons'), { recursive: true });
  await buildServiceWorker(web, outDir);
  return outDir;
}

/**
 * The service worker, its own classic script at the root (/sw.js, so its scope is the whole
 * console), told which files make the shell and a digest of them: a new build changes sw.js, so
 * browsers install the new worker and its new cache.
 */
async function buildServiceWorker(web: string, outDir: string): Promise<void> {
  const shell = ['./', 'app.js', 'manifest.webmanifest', ...fs.readdirSync(outDir).filter((f) => f.endsWith('.css')), ...fs.readdirSync(path.join(outDir, 'icons')).map((f) => `icons/${f}`)];
  const digest = crypto.createHash('sha256');
  for (const f of shell) digest.update(f).update(fs.readFileSync(path.join(outDir, f === './' ? 'index.html' : f)));
  await build({
    entryPoints: [path.join(web, 'src', 'sw.ts')],
    bundle: true,
    format: 'iife',
    target: 'es2022',
    minify: true,
    outfile: path.join(outDir, 'sw.js'),
    define: { BUILD: JSON.stringify(digest.digest('hex').slice(0, 16)), SHELL: JSON.stringify(shell) },
    logLevel: 'warning',
    legalComments: 'none',
  });
}

if (require.main === module) {
  buildWeb(process.argv[2]).then(
    (dir) => console.log(`web console built into ${dir}`),
    (e) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}
