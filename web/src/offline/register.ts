/**
 * Registers the service worker (sw.js, built from web/src/sw.ts) at the site's root, so the console
 * opens without the network and can be added to the home screen. Browsers without service workers,
 * or pages not in a secure context (plain http other than localhost), go on without it.
 */
export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return;
  const go = () =>
    navigator.serviceWorker.register('sw.js', { scope: './' }).catch((e: unknown) => {
      console.warn(`the offline service worker did not register: ${e instanceof Error ? e.message : String(e)}`);
    });
  if (document.readyState === 'complete') void go();
  else window.addEventListener('load', () => void go(), { once: true });
}
