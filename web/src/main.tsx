import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { get, saveToken, signedIn, signOut, whenUnauthorized, type Me } from './api';
import { currentLang, roleName, setLang, t } from './i18n';
import { parseRoute, navigate, ErrorBox, PageTitle } from './util';
import { Dashboard } from './pages/dashboard';
import { StreetPage } from './pages/street';
import { ProcessList } from './pages/processes';
import { ProcessPage } from './pages/process';
import { DefinitionList, DefinitionEditor } from './pages/definitions';
import { MyTasks } from './pages/my-tasks';
import { ROTA_EDITORS, ROTA_READERS, RotaPage, rotaNavLabel } from './pages/rota';
import { RegistryPage, registryNavLabel } from './pages/registry';
import { SignInProviders } from './sign-in-providers';
import { offlineMe } from './offline/field';
import { registerServiceWorker } from './offline/register';

type Role = Me['role'];
const MANAGERS: Role[] = ['admin', 'manager'];
const OPS: Role[] = ['admin', 'ops'];
const LISTS: Role[] = ['admin', 'manager', 'ops', 'grid-leader'];
/** Everyone with tasks of their own: grid staff, and partners handling their organisation's work. */
const WORKERS: Role[] = ['admin', 'grid-leader', 'grid-worker', 'partner'];
/** The register of people to visit: managers and the grids' staff (ops and partners see no one's data). */
const REGISTRY: Role[] = ['admin', 'manager', 'grid-leader', 'grid-worker'];

interface NavItem {
  hash: string;
  label: () => string;
  roles: Role[];
  /** Shown only when this holds too (the street's page: for who reaches more than one community). */
  when?: (me: Me) => boolean;
}
const NAV: NavItem[] = [
  { hash: '#/dashboard', label: () => t('navDashboard'), roles: MANAGERS },
  { hash: '#/street', label: () => t('navStreet'), roles: MANAGERS, when: (me) => me.communities === 'all' || (me.communities?.length ?? 0) > 1 },
  { hash: '#/processes', label: () => t('navProcesses'), roles: LISTS },
  { hash: '#/definitions', label: () => t('navDefinitions'), roles: OPS },
  { hash: '#/my', label: () => t('navMyTasks'), roles: WORKERS },
  { hash: '#/rota', label: rotaNavLabel, roles: ROTA_EDITORS },
  { hash: '#/registry', label: registryNavLabel, roles: REGISTRY },
];

function home(me: Me): string {
  if (MANAGERS.includes(me.role)) return '#/dashboard';
  if (me.role === 'ops') return '#/definitions';
  return '#/my';
}

function SignIn({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const [token, setToken] = useState('');
  const [remember, setRemember] = useState(false);
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await get<Me>('/api/me'));
    } catch (err) {
      saveToken(null);
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="signin">
      <PageTitle>{t('appName')}</PageTitle>
      <SignInProviders />
      <form
        onSubmit={(e) => {
          saveToken(token.trim(), remember);
          void submit(e);
        }}
        aria-describedby="token-help"
      >
        <label for="token">{t('token')}</label>
        <input id="token" name="token" type="password" autoComplete="current-password" required value={token} onInput={(e) => setToken(e.currentTarget.value)} />
        <p id="token-help" class="muted">
          {t('tokenHelp')}
        </p>
        <label class="check">
          <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.currentTarget.checked)} /> {t('remember')}
        </label>
        <button type="submit" class="primary" disabled={busy}>
          {t('signIn')}
        </button>
        {error && <ErrorBox error={error} />}
      </form>
    </main>
  );
}

function NoAccess() {
  return (
    <div class="error" role="alert">
      {currentLang() === 'zh' ? '您的角色无权查看此页面。' : 'Your role may not see this page.'}
    </div>
  );
}

function App() {
  const [me, setMe] = useState<Me | null | undefined>(signedIn() ? undefined : null);
  const [hash, setHash] = useState(location.hash);
  const [, setLangTick] = useState(0);

  useEffect(() => {
    const onHash = () => setHash(location.hash);
    window.addEventListener('hashchange', onHash);
    whenUnauthorized(() => {
      saveToken(null);
      setMe(null);
    });
    if (signedIn())
      get<Me>('/api/me').then(setMe, (e) => {
        // No answer (offline): the field page opens for the person last signed in on this phone.
        const known = offlineMe(e);
        if (known) return setMe(known);
        saveToken(null);
        setMe(null);
      });
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const toggleLang = () => {
    setLang(currentLang() === 'zh' ? 'en' : 'zh');
    setLangTick((n) => n + 1);
  };
  const langButton = (
    <button type="button" class="link" onClick={toggleLang} aria-label={t('languageLabel')} lang={currentLang() === 'zh' ? 'en' : 'zh-CN'}>
      {t('language')}
    </button>
  );

  if (me === undefined)
    return (
      <p class="muted" role="status">
        {t('loading')}
      </p>
    );
  if (me === null)
    return (
      <>
        <div class="topbar">{langButton}</div>
        <SignIn
          onSignedIn={(m) => {
            setMe(m);
            navigate(home(m));
          }}
        />
      </>
    );

  const { parts, query } = parseRoute(hash);
  if (parts.length === 0) {
    navigate(home(me));
    return null;
  }
  const allowed = (roles: Role[]) => roles.includes(me.role);
  let page;
  switch (parts[0]) {
    case 'dashboard':
      page = allowed(MANAGERS) ? <Dashboard community={query.get('community') ?? undefined} /> : <NoAccess />;
      break;
    case 'street':
      page = allowed(MANAGERS) ? <StreetPage /> : <NoAccess />;
      break;
    case 'processes':
      page = !allowed([...LISTS, 'grid-worker']) ? <NoAccess /> : parts[1] ? <ProcessPage id={parts.slice(1).join('/')} me={me} /> : <ProcessList query={query} />;
      break;
    case 'definitions':
      page = !allowed(OPS) ? <NoAccess /> : parts[1] ? <DefinitionEditor definitionKey={parts[1]} /> : <DefinitionList />;
      break;
    case 'my':
      page = <MyTasks me={me} />;
      break;
    case 'rota':
      page = allowed(ROTA_READERS) ? <RotaPage query={query} me={me} /> : <NoAccess />;
      break;
    case 'registry':
      page = allowed(REGISTRY) ? <RegistryPage view={parts[1]} query={query} me={me} /> : <NoAccess />;
      break;
    default:
      page = <NoAccess />;
  }
  const current = `#/${parts[0]}`;
  return (
    <div class="shell" key={currentLang()}>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>
        {t('skip')}
      </a>
      <header class="topbar">
        <a class="brand" href={home(me)}>
          gridflow
        </a>
        <nav aria-label={t('nav')}>
          <ul>
            {NAV.filter((n) => allowed(n.roles) && (n.when?.(me) ?? true)).map((n) => (
              <li key={n.hash}>
                <a href={n.hash} aria-current={current === n.hash ? 'page' : undefined}>
                  {n.label()}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span>
            {t('signedInAs')}: {me.name}（{roleName(me.role)}）
          </span>
          {langButton}
          <button
            type="button"
            class="link"
            onClick={() => {
              void signOut();
              setMe(null);
              location.hash = '';
            }}
          >
            {t('signOut')}
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1} key={hash}>
        {page}
      </main>
    </div>
  );
}

const root = document.getElementById('app') as HTMLElement;
// The page's own "loading" line goes once the app takes over.
root.textContent = '';
render(<App />, root);
registerServiceWorker();
