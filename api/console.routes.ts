import fs from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';
import { projectRoot } from '../infra/paths';

/** Where the built console lives: the configured dir (GRIDFLOW_WEB_DIR), else dist/web (written by `npm run build`). */
export function consoleDir(configured?: string): string {
  return configured ?? path.join(projectRoot(), 'dist', 'web');
}

// The console is same-origin script and style only; the API's own headers stay stricter.
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/**
 * The web console at `/`: index.html, app.js and app.css from the build. Pages route by the URL's
 * hash, so the server has one page to serve. Without a build, `/` says how to make one.
 */
export function consoleRoutes(dir = consoleDir()): Router {
  const r = Router();
  r.use((req, res, next) => {
    if (req.path.startsWith('/api/') || req.path === '/metrics') return next();
    res.set('Content-Security-Policy', CSP);
    next();
  });
  r.get(['/', '/index.html'], (_req, res) => {
    const index = path.join(dir, 'index.html');
    if (!fs.existsSync(index)) {
      res.status(503).type('text/plain; charset=utf-8').send('The console is not built: run `npm run build`.\n');
      return;
    }
    res.type('html').sendFile(index);
  });
  // The service worker at the root, so its scope is the whole console; revalidated on every check so
  // a new build reaches phones on their next visit. It carries the console's policy above.
  r.get('/sw.js', (_req, res, next) => {
    const file = path.join(dir, 'sw.js');
    if (!fs.existsSync(file)) return next();
    res.type('text/javascript; charset=utf-8').set('Cache-Control', 'no-cache').set('Service-Worker-Allowed', '/').sendFile(file, { cacheControl: false });
  });
  r.get('/manifest.webmanifest', (_req, res, next) => {
    const file = path.join(dir, 'manifest.webmanifest');
    if (!fs.existsSync(file)) return next();
    res.type('application/manifest+json; charset=utf-8').sendFile(file);
  });
  r.use(express.static(dir, { index: false, fallthrough: true, etag: true, maxAge: 0 }));
  return r;
}
