import { useEffect, useState } from 'preact/hooks';
import { endedBecause } from './api';
import { t } from './i18n';

/**
 * The identity providers the server is configured with, as links: signing in leaves for the
 * provider and comes back with a session cookie. Also says why the last session ended, when the
 * server said (revoked by a manager, expired, idle).
 */
export function SignInProviders() {
  const [providers, setProviders] = useState<{ oidc: boolean; wecom: boolean }>({ oidc: false, wecom: false });
  useEffect(() => {
    fetch('/auth/providers', { headers: { accept: 'application/json' } })
      .then((r) => (r.ok ? r.json() : undefined))
      .then((p) => p && setProviders(p), () => undefined);
  }, []);
  const [ended] = useState(endedBecause);
  const any = providers.oidc || providers.wecom;
  return (
    <>
      {ended && (
        <p class="error" role="alert">
          {t('sessionEnded')}: {ended}
        </p>
      )}
      {any && (
        <nav class="providers" aria-label={t('signInWith')}>
          {providers.oidc && (
            <a class="button primary" href="/auth/oidc/login">
              {t('signInOidc')}
            </a>
          )}
          {providers.wecom && (
            <a class="button" href="/auth/wecom/login">
              {t('signInWecom')}
            </a>
          )}
          <p class="muted">{t('signInOrToken')}</p>
        </nav>
      )}
    </>
  );
}
