/// <reference lib="dom" />
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Debian's Chromium, which `.ci/run` installs when it is missing (playwright-core never downloads a
 * browser here). GRIDFLOW_CHROMIUM names another binary.
 */
export function chromiumPath(): string {
  const candidates = [process.env.GRIDFLOW_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => Boolean(p));
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`no Chromium at ${candidates.join(' or ')}: run .ci/run (it installs Debian's chromium) or set GRIDFLOW_CHROMIUM`);
  return found;
}

/** Headless Chromium on a closed network, as root: nothing reaches for Google's hosts. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

export const DESKTOP = { width: 1366, height: 900 };
export const PHONE = { width: 390, height: 844 };

/** Where the tests keep their screenshots; the README shows them. */
export const SCREENSHOTS = path.join(__dirname, '..', '..', 'docs', 'screenshots');

export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Signs in through the form, as a person would. */
export async function signIn(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel('访问令牌').fill(token);
  await page.getByRole('button', { name: '登录' }).click();
  await page.getByRole('navigation', { name: '主导航' }).waitFor();
}

/**
 * Every form control has an accessible name and every image a label: the checks a screen reader
 * user would trip over first. Returns what is missing.
 */
export async function unlabelled(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const missing: string[] = [];
    const describe = (el: Element) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${(el as HTMLInputElement).name ? `[name=${(el as HTMLInputElement).name}]` : ''}`;
    for (const el of Array.from(document.querySelectorAll('input, select, textarea, button'))) {
      if ((el as HTMLInputElement).type === 'hidden') continue;
      const labelled = (el as HTMLInputElement).labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || (el.tagName === 'BUTTON' && el.textContent?.trim());
      if (!labelled) missing.push(describe(el));
    }
    for (const el of Array.from(document.querySelectorAll('svg[role="img"]'))) if (!el.getAttribute('aria-label')) missing.push('svg without aria-label');
    if (!document.querySelector('main')) missing.push('no <main> landmark');
    if (!document.querySelector('h1')) missing.push('no <h1>');
    return missing;
  });
}

/**
 * A page in a fresh zh-CN, Shanghai-time context, kept in `contexts` for the test's afterAll to close.
 * `problems` collects page errors and console errors (a failed resource load is the network's, not
 * the console's, so it is left out).
 */
export async function openPage(
  browser: Browser,
  contexts: BrowserContext[],
  viewport = DESKTOP,
): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  contexts.push(context);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(m.text());
  });
  return { page, problems };
}
