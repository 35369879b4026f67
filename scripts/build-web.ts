/**
 * Builds the web console into dist/web (or the directory given): one bundle of web/src with esbuild,
 * plus index.html and the style sheets. `npm run build` (and so `npm start`) runs it; the tests call
 * `buildWeb` from their global set-up.
 */
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
  for (const f of fs.readdirSync(web)) if (f === 'index.html' || f.endsWith('.css')) fs.copyFileSync(path.join(web, f), path.join(outDir, f));
  return outDir;
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
