import type { Browser, BrowserContext } from 'playwright-core';
import { launchChromium } from './browser';
import { startHarness, type Harness } from './harness';

/** What a browser test file runs against: a gridflow (API, worker, servers) and Chromium. */
export async function startBrowserRun(): Promise<{ h: Harness; browser: Browser }> {
  const h = await startHarness();
  try {
    return { h, browser: await launchChromium() };
  } catch (e) {
    await h.close();
    throw e;
  }
}

/** Closes the pages' contexts and then Chromium; the harness stays up for what the file still sends. */
export async function closeBrowser(browser: Browser | undefined, contexts: BrowserContext[]): Promise<void> {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
}
