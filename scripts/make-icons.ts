/**
 * Renders the field page's home-screen icons (web/icons/*.png) from their SVG sources with Debian's
 * Chromium (or the browser named as its argument), so the PNGs in the repository are what the SVGs
 * draw. Run it after changing an SVG: `npx ts-node --transpile-only scripts/make-icons.ts [chromium]`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const ICONS = path.join(__dirname, '..', 'web', 'icons');
/** PNG name, SVG source, size in pixels: Android's 192 and 512, the maskable 512, iOS's 180. */
const SIZES: [string, string, number][] = [
  ['icon-192.png', 'icon.svg', 192],
  ['icon-512.png', 'icon.svg', 512],
  ['icon-maskable-512.png', 'icon-maskable.svg', 512],
  ['apple-touch-icon.png', 'icon-maskable.svg', 180],
];

async function main(): Promise<void> {
  const browser = await chromium.launch({ executablePath: process.argv[2] ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  try {
    for (const [png, svg, size] of SIZES) {
      const page = await browser.newPage({ viewport: { width: size, height: size }, deviceScaleFactor: 1 });
      const data = Buffer.from(fs.readFileSync(path.join(ICONS, svg))).toString('base64');
      await page.setContent(`<html><body style="margin:0;background:transparent"><img src="data:image/svg+xml;base64,${data}" width="${size}" height="${size}" style="display:block"></body></html>`);
      await page.locator('img').evaluate((img) => (img as unknown as { decode(): Promise<void> }).decode());
      await page.screenshot({ path: path.join(ICONS, png), omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } });
      await page.close();
      console.log(`web/icons/${png} (${size}x${size}) from ${svg}`);
    }
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
