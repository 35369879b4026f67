import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { appFromServices } from '../../api/app';
import type { SignInSettings } from '../../config/config';
import { createLogger } from '../../infra/log';
import { SignInService } from '../../services/sign-in.service';
import { NO_RATE_LIMITS, startHarness, type Harness } from '../support/harness';
import { decodeJwt, startOidcProvider, type TestProvider } from '../support/oidc-provider';
import { startWecomServer, type WecomServer } from '../support/wecom-server';

/**
 * Signing in to the console through a real OpenID Provider (panva's oidc-provider, in-process) and a
 * server speaking WeCom's protocol, against the API on the test run's PostgreSQL: the session cookie,
 * its CSRF protection, the ID token's checks, the accounts no member is linked to, sign-out, and the
 * sessions managers list and revoke.
 */

let h: Harness;
let server: http.Server;
let base: string;
let provider: TestProvider;
let wecom: WecomServer;
let settings: SignInSettings;
const run = crypto.randomBytes(3).toString('hex');
const sub = (name: string) => `${name}-${run}`;
const WECOM = { corpId: 'wwtestcorp', secret: 'wecom-secret', agentId: '1000002' };

beforeAll(async () => {
  h = await startHarness({ worker: false });
  server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  provider = await startOidcProvider({
    redirectUris: [`${base}/auth/oidc/callback`],
    accounts: {
      [sub('w03')]: { name: '王小三', preferred_username: 'wangxs' },
      [sub('stranger')]: { name: '陌生人' },
      [sub('claims-w04')]: { name: '李四', preferred_username: 'm-grid-04-worker' },
      [sub('claims-nobody')]: { name: '无名', preferred_username: 'm-no-such-member' },
    },
  });
  wecom = await startWecomServer(WECOM);
  settings = {
    oidc: { issuer: provider.issuer, clientId: provider.clientId, clientSecret: provider.clientSecret, redirectUrl: `${base}/auth/oidc/callback`, scopes: 'openid profile' },
    wecom: { ...WECOM, redirectUrl: `${base}/auth/wecom/callback`, baseUrl: wecom.baseUrl, authorizeUrl: wecom.authorizeUrl },
    session: { secureCookie: false, lifetimeMs: 12 * 3_600_000, idleMs: 2 * 3_600_000 },
  };
  const signIn = new SignInService(settings, h.services.sessions);
  server.on('request', appFromServices({ ...h.services, signIn }, { adminToken: h.token, log: createLogger('error'), rateLimits: NO_RATE_LIMITS }));
  for (const [member, provider, subject] of [
    ['m-grid-03-worker', 'oidc', sub('w03')],
    ['m-grid-03-leader', 'wecom', sub('LiSi')],
  ]) {
    expect((await h.call('POST', `/api/members/${member}/identities`, { provider, subject })).status).toBe(201);
  }
}, 120_000);
afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await provider?.close();
  await wecom?.close();
  await h?.close();
});

interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

/** A browser's part in the flow: follows redirects across the app and the providers, keeps cookies (per host, as browsers do). */
class Browser {
  readonly jar = new Map<string, string>();
  setCookies: string[] = [];

  cookie(name: string): string | undefined {
    return this.jar.get(name);
  }

  async go(url: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
    const res = await fetch(url, { method: init.method ?? 'GET', body: init.body, redirect: 'manual', headers: { cookie: [...this.jar].map(([k, v]) => `${k}=${v}`).join('; '), ...init.headers } });
    for (const c of res.headers.getSetCookie()) {
      this.setCookies.push(c);
      const [pair] = c.split(';');
      const at = pair.indexOf('=');
      const [name, value] = [pair.slice(0, at), pair.slice(at + 1)];
      if (/expires=Thu, 01 Jan 1970/i.test(c) || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // a page
    }
    return { status: res.status, body, headers: res.headers };
  }

  /** Follows redirects from `url` until one leads where `stop` says (not followed) or a page answers. */
  async follow(url: string, stop?: (next: string) => boolean): Promise<{ answer: Answer; url: string }> {
    let at = url;
    for (let i = 0; i < 10; i++) {
      const answer = await this.go(at);
      const location = answer.headers.get('location');
      if (answer.status < 300 || answer.status >= 400 || !location) return { answer, url: at };
      at = new URL(location, at).href;
      if (stop?.(at)) return { answer, url: at };
    }
    throw new Error(`too many redirects from ${url}`);
  }

  /** The console's API call with the session cookie: the CSRF header and Origin as the console sends them, unless told otherwise. */
  api(method: string, path: string, body?: unknown, opts: { csrf?: string | null; origin?: string | null } = {}): Promise<Answer> {
    const csrf = opts.csrf === undefined ? this.cookie('gridflow_csrf') : opts.csrf;
    const origin = opts.origin === undefined ? base : opts.origin;
    return this.go(`${base}${path}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(csrf ? { 'x-csrf-token': csrf } : {}), ...(origin ? { origin } : {}) },
    });
  }
}

/** Through the provider's login page as `account`, up to the redirect back to gridflow's callback (not yet taken). */
async function toCallback(b: Browser, account: string): Promise<string> {
  const { url: loginPage } = await b.follow(`${base}/auth/oidc/login`);
  expect(loginPage).toMatch(new RegExp(`^${provider.issuer}/interaction/`));
  const chose = await b.go(loginPage, { method: 'POST', body: new URLSearchParams({ account }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  expect(chose.status).toBe(303);
  const { url } = await b.follow(new URL(chose.headers.get('location') as string, loginPage).href, atCallback('oidc'));
  expect(url.startsWith(`${base}/auth/oidc/callback?`)).toBe(true);
  return url;
}

async function signInOidc(account: string): Promise<{ b: Browser; callback: Answer }> {
  const b = new Browser();
  const callback = await b.go(await toCallback(b, account), { headers: { accept: 'application/json' } });
  return { b, callback };
}

const atCallback = (provider: string) => (next: string) => next.startsWith(`${base}/auth/${provider}/callback`);
const atConsole = (next: string) => next === `${base}/`;
const sha256 = (v: string) => crypto.createHash('sha256').update(v).digest('hex');
const db = () => h.services.orm.em.fork().getConnection();

describe('OpenID Connect', () => {
  test('grid-03\'s worker signs in: an HttpOnly Lax session cookie, stored hashed, gives the member\'s own role and grid', async () => {
    const { b, callback } = await signInOidc(sub('w03'));
    expect(callback.status).toBe(303);
    expect(callback.headers.get('location')).toBe('/');
    const session = b.setCookies.find((c) => c.startsWith('gridflow_session=')) as string;
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/SameSite=Lax/);
    expect(session).toMatch(/Path=\//);
    // Served over plain http here, so not Secure; the csrf cookie is for the console's script to read.
    expect(session).not.toMatch(/Secure/);
    expect(b.setCookies.find((c) => c.startsWith('gridflow_csrf='))).not.toMatch(/HttpOnly/);
    // The sign-in cookie is spent.
    expect(b.cookie('gridflow_signin')).toBeUndefined();

    const me = await b.api('GET', '/api/me');
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ name: '第三网格专职网格员', role: 'grid-worker', grids: ['grid-03'], member: 'm-grid-03-worker', community: 'shengshi', communities: ['shengshi'] });
    // The same principal a fitting token for the member gives, but for the name.
    const byToken = await h.as('m-grid-03-worker').call('GET', '/api/me');
    expect({ ...byToken.body, name: undefined }).toEqual({ ...me.body, name: undefined });
    expect((await b.api('GET', '/api/grids/grid-03')).status).toBe(200);
    expect((await b.api('GET', '/api/grids/grid-05')).status).toBe(403);

    // The row holds the secret's hash, never the secret.
    const value = decodeURIComponent(b.cookie('gridflow_session') as string);
    const rows = await db().execute<{ hash: string; member_id: string; provider: string }[]>(`select hash, member_id, provider from console_session where member_id = 'm-grid-03-worker' and subject = ?`, [sub('w03')]);
    expect(rows.map((r) => r.hash)).toContain(sha256(value));
    expect(JSON.stringify(rows)).not.toContain(value);
  });

  test('a request that changes something with the cookie needs the session\'s CSRF token and the console\'s origin; GET and bearer tokens need neither', async () => {
    const { b } = await signInOidc(sub('w03'));
    const path = '/api/notifications/no-such-notice/read';
    // Authenticated and allowed through: the notice does not exist.
    expect((await b.api('POST', path, {})).status).toBe(404);
    const missing = await b.api('POST', path, {}, { csrf: null });
    expect(missing.status).toBe(403);
    expect(missing.body.detail).toContain('X-CSRF-Token header');
    const wrong = await b.api('POST', path, {}, { csrf: 'x'.repeat(43) });
    expect(wrong.status).toBe(403);
    expect(wrong.body.detail).toContain('does not fit this session');
    const otherSite = await b.api('POST', path, {}, { origin: 'https://evil.example' });
    expect(otherSite.status).toBe(403);
    expect(otherSite.body.detail).toContain('https://evil.example');
    // Another session's token does not fit this one.
    const { b: other } = await signInOidc(sub('w03'));
    expect((await b.api('POST', path, {}, { csrf: other.cookie('gridflow_csrf') })).status).toBe(403);
    expect((await b.api('GET', '/api/me', undefined, { csrf: null, origin: null })).status).toBe(200);
    expect((await h.as('m-grid-03-worker').call('POST', path, {})).status).toBe(404);
  });

  test('a callback this browser did not start, with another state, or taken twice is refused (400) and opens no session', async () => {
    const b = new Browser();
    const callback = await toCallback(b, sub('w03'));
    const tampered = new URL(callback);
    tampered.searchParams.set('state', 'forged-state');
    const bad = await b.go(tampered.href, { headers: { accept: 'application/json' } });
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toContain('"forged-state" is not the one this browser\'s sign-in sent');
    expect(b.cookie('gridflow_session')).toBeUndefined();
    // The sign-in was spent by that attempt: the genuine answer after it is refused too.
    const again = await b.go(callback, { headers: { accept: 'application/json' } });
    expect(again.status).toBe(400);
    expect(again.body.detail).toMatch(/no sign-in under way|already used/);

    // Another browser (no sign-in cookie) cannot take this browser's answer.
    const b2 = new Browser();
    const theirs = await toCallback(b2, sub('w03'));
    const stolen = await new Browser().go(theirs, { headers: { accept: 'application/json' } });
    expect(stolen.status).toBe(400);
    expect(stolen.body.detail).toContain('no sign-in under way');
    expect((await b2.go(theirs)).status).toBe(303);
  });

  // Each ID token is the provider's own, changed after it was made; only the tampered one is not signed again.
  const changed: [string, (t: string) => string, RegExp][] = [
    ['expired an hour ago, signed by the provider', (t) => provider.sign({ ...decodeJwt(t).payload, iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }), /"exp"/],
    ['for another client (audience), signed by the provider', (t) => provider.sign({ ...decodeJwt(t).payload, aud: 'another-client' }), /"aud"/],
    ['from another issuer, signed by the provider', (t) => provider.sign({ ...decodeJwt(t).payload, iss: 'https://elsewhere.example' }), /"iss"/],
    ['with another nonce, signed by the provider', (t) => provider.sign({ ...decodeJwt(t).payload, nonce: 'replayed' }), /"nonce"/],
    [
      'tampered with (another subject), not signed again',
      (t) => {
        const [head, , sig] = t.split('.');
        return `${head}.${Buffer.from(JSON.stringify({ ...decodeJwt(t).payload, sub: sub('stranger') })).toString('base64url')}.${sig}`;
      },
      /signature/i,
    ],
  ];
  test.each(changed)('an ID token %s is refused (401) and opens no session', async (_name, change, reason) => {
    provider.rewriteTokenResponse = (body) => ({ ...body, id_token: change(String(body.id_token)) });
    try {
      const { b, callback } = await signInOidc(sub('w03'));
      expect(callback.status).toBe(401);
      expect(callback.body.detail).toContain('did not verify');
      expect(callback.body.detail).toMatch(reason);
      expect(b.cookie('gridflow_session')).toBeUndefined();
    } finally {
      provider.rewriteTokenResponse = undefined;
    }
  });

  test('an account no member is linked to is refused (403) with what an administrator must link, as a page to a browser', async () => {
    const { b, callback } = await signInOidc(sub('stranger'));
    expect(callback.status).toBe(403);
    expect(callback.body.detail).toContain('an administrator must link it');
    expect(callback.body.detail).toContain(`"subject":"${sub('stranger')}"`);
    expect(callback.body.detail).toContain('陌生人');
    expect(b.cookie('gridflow_session')).toBeUndefined();

    const browser = new Browser();
    const page = await browser.go(await toCallback(browser, sub('stranger')), { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(page.status).toBe(403);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(String(page.body)).toContain('未能登录');
    expect(String(page.body)).toContain('an administrator must link it');

    // Once linked, the same account signs in.
    expect((await h.call('POST', '/api/members/m-grid-03-part-time-1/identities', { provider: 'oidc', subject: sub('stranger') })).status).toBe(201);
    const later = await signInOidc(sub('stranger'));
    expect(later.callback.status).toBe(303);
    expect((await later.b.api('GET', '/api/me')).body.member).toBe('m-grid-03-part-time-1');
    // Unlinking ends the sessions it opened.
    const unlinked = await h.call('DELETE', `/api/members/m-grid-03-part-time-1/identities/oidc/${encodeURIComponent(sub('stranger'))}`);
    expect(unlinked.status).toBe(200);
    expect(unlinked.body.sessionsRevoked).toBe(1);
    expect((await later.b.api('GET', '/api/me')).status).toBe(401);
  });

  test('with GRIDFLOW_OIDC_MEMBER_CLAIM, a claim naming an active member links the account at its first sign-in (from userinfo when the ID token lacks it)', async () => {
    (settings.oidc as NonNullable<SignInSettings['oidc']>).memberClaim = 'preferred_username';
    try {
      const { b, callback } = await signInOidc(sub('claims-w04'));
      expect(callback.status).toBe(303);
      expect((await b.api('GET', '/api/me')).body).toEqual(expect.objectContaining({ member: 'm-grid-04-worker', grids: ['grid-04'] }));
      const links = await h.call('GET', '/api/members/m-grid-04-worker/identities');
      expect(links.body.items).toEqual([expect.objectContaining({ provider: 'oidc', subject: sub('claims-w04'), linkedBy: 'claim:preferred_username' })]);
      const nobody = await signInOidc(sub('claims-nobody'));
      expect(nobody.callback.status).toBe(403);
    } finally {
      delete (settings.oidc as NonNullable<SignInSettings['oidc']>).memberClaim;
    }
    // Linked now: the claim is no longer needed.
    expect((await signInOidc(sub('claims-w04'))).callback.status).toBe(303);
  });

  test('an account is linked to one member: linking it to another is 409 naming the first; only admin links', async () => {
    const again = await h.call('POST', '/api/members/m-grid-03-worker/identities', { provider: 'oidc', subject: sub('w03') });
    expect(again.status).toBe(200);
    const other = await h.call('POST', '/api/members/m-grid-05-worker/identities', { provider: 'oidc', subject: sub('w03') });
    expect(other.status).toBe(409);
    expect(other.body.detail).toContain('m-grid-03-worker');
    expect((await h.as('m-party-secretary').call('POST', '/api/members/m-grid-05-worker/identities', { provider: 'oidc', subject: 'x' })).status).toBe(403);
    expect((await h.call('POST', '/api/members/m-nobody/identities', { provider: 'oidc', subject: 'x' })).status).toBe(404);
    expect((await h.call('POST', '/api/members/m-grid-05-worker/identities', { provider: 'github', subject: 'x' })).status).toBe(400);
  });
});

describe('sessions end', () => {
  test('an expired session and an idle one are refused at the next request (401) saying which', async () => {
    const { b } = await signInOidc(sub('w03'));
    const hash = sha256(decodeURIComponent(b.cookie('gridflow_session') as string));
    await db().execute(`update console_session set last_seen_at = now() - interval '3 hours' where hash = ?`, [hash]);
    const idle = await b.api('GET', '/api/me');
    expect(idle.status).toBe(401);
    expect(idle.body.detail).toContain('idle for more than 120 minutes');
    await db().execute(`update console_session set last_seen_at = now(), expires_at = now() - interval '1 second' where hash = ?`, [hash]);
    const expired = await b.api('GET', '/api/me');
    expect(expired.status).toBe(401);
    expect(expired.body.detail).toMatch(/the session expired at .* \(sessions last 12 hours\); sign in again/);
  });

  test('sign-out (with the CSRF token) deletes the session and clears its cookies; the old cookie is refused after', async () => {
    const { b } = await signInOidc(sub('w03'));
    const value = b.cookie('gridflow_session') as string;
    expect((await b.go(`${base}/auth/signout`, { method: 'POST', headers: { origin: base } })).status).toBe(403);
    const out = await b.go(`${base}/auth/signout`, { method: 'POST', headers: { origin: base, 'x-csrf-token': b.cookie('gridflow_csrf') as string } });
    expect(out.status).toBe(204);
    expect(b.cookie('gridflow_session')).toBeUndefined();
    expect(b.cookie('gridflow_csrf')).toBeUndefined();
    expect(await db().execute(`select 1 from console_session where hash = ?`, [sha256(decodeURIComponent(value))])).toEqual([]);
    const old = await fetch(`${base}/api/me`, { headers: { cookie: `gridflow_session=${value}` } });
    expect(old.status).toBe(401);
    expect(((await old.json()) as { detail: string }).detail).toContain('the session is not known');
  });

  test('a member made inactive loses their sessions', async () => {
    const member = 'm-grid-12-police';
    const opened = await h.services.sessions.open(member, 'oidc', sub('police12'), {});
    const call = () => fetch(`${base}/api/me`, { headers: { cookie: `gridflow_session=${opened.secret}` } });
    expect((await call()).status).toBe(200);
    await db().execute(`update member set active = false where id = ?`, [member]);
    try {
      const refused = await call();
      expect(refused.status).toBe(401);
      expect(((await refused.json()) as { detail: string }).detail).toContain('revoked by member made inactive');
    } finally {
      await db().execute(`update member set active = true where id = ?`, [member]);
    }
    // Made active again, the member signs in afresh: the old session stays ended.
    expect((await call()).status).toBe(401);
  });
});

describe('WeCom', () => {
  test('a corp member signs in through WeCom\'s authorize page, gettoken and auth/getuserinfo, as the member linked to their userid', async () => {
    wecom.signedIn = sub('LiSi');
    const b = new Browser();
    const login = await b.go(`${base}/auth/wecom/login`);
    expect(login.status).toBe(302);
    const to = new URL(login.headers.get('location') as string);
    expect(`${to.origin}${to.pathname}`).toBe(wecom.authorizeUrl);
    expect(Object.fromEntries(to.searchParams)).toEqual(expect.objectContaining({ appid: WECOM.corpId, agentid: WECOM.agentId, response_type: 'code', scope: 'snsapi_base', redirect_uri: `${base}/auth/wecom/callback` }));
    expect(to.hash).toBe('#wechat_redirect');
    const { answer } = await b.follow(to.href, atConsole);
    expect(answer.status).toBe(303);
    expect((await b.api('GET', '/api/me')).body).toEqual({ name: '第三网格网格长', role: 'grid-leader', grids: ['grid-03'], member: 'm-grid-03-leader', community: 'shengshi', communities: ['shengshi'] });
  });

  test('an expired access token is made again once; a code used twice, an outsider and an unlinked userid are refused', async () => {
    wecom.signedIn = sub('LiSi');
    wecom.expireTokens();
    const before = wecom.tokensIssued;
    const b = new Browser();
    const { url } = await b.follow(`${base}/auth/wecom/login`, atCallback('wecom'));
    expect((await b.go(url)).status).toBe(303);
    expect(wecom.tokensIssued).toBe(before + 1);

    // The same answer again: the sign-in it belonged to is spent.
    expect((await b.go(url, { headers: { accept: 'application/json' } })).status).toBe(400);

    wecom.signedIn = { openid: 'o-outsider' };
    const outsider = new Browser();
    const { answer: refused } = await outsider.follow(`${base}/auth/wecom/login`);
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toContain('not a member of the corp');

    wecom.signedIn = sub('ZhaoLiu');
    const unlinked = new Browser();
    const { answer: notLinked } = await unlinked.follow(`${base}/auth/wecom/login`);
    expect(notLinked.status).toBe(403);
    expect(notLinked.body.detail).toContain(`"provider":"wecom","subject":"${sub('ZhaoLiu')}"`);

    // A code WeCom does not know (40029).
    const forged = new Browser();
    const { url: cb } = await forged.follow(`${base}/auth/wecom/login`, atCallback('wecom'));
    const bad = new URL(cb);
    bad.searchParams.set('code', 'not-a-code');
    const answer = await forged.go(bad.href, { headers: { accept: 'application/json' } });
    expect(answer.status).toBe(401);
    expect(answer.body.detail).toContain('40029');
  });
});

describe('managing sessions', () => {
  const callers = ['admin', 'm-community-manager-1', 'm-grid-03-leader', 'm-grid-05-leader', 'm-grid-03-worker', 'ops'] as const;
  const allowed = new Set(['admin', 'm-community-manager-1', 'm-grid-03-leader']);
  const as = async (caller: (typeof callers)[number], method: string, path: string) => {
    if (caller === 'admin') return h.call(method, path);
    if (caller === 'ops') {
      const ops = await h.call('POST', '/api/tokens', { role: 'ops', name: `ops-${run}` });
      return h.call(method, path, undefined, { authorization: `Bearer ${ops.body.token}` });
    }
    return h.as(caller).call(method, path);
  };

  test('a grid worker\'s sessions are listed and revoked by admin, a manager and their own grid\'s leader only; a revoked session is refused at its next request', async () => {
    const matrix: Record<string, string> = {};
    for (const caller of callers) {
      const { b } = await signInOidc(sub('w03'));
      const id = (await db().execute<{ id: string }[]>(`select id from console_session where hash = ?`, [sha256(decodeURIComponent(b.cookie('gridflow_session') as string))]))[0].id;
      const list = await as(caller, 'GET', '/api/members/m-grid-03-worker/sessions');
      const revoke = await as(caller, 'DELETE', `/api/sessions/${id}`);
      matrix[caller] = `list ${list.status}, revoke ${revoke.status}`;
      if (allowed.has(caller)) {
        expect(list.status).toBe(200);
        expect(list.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ id, memberId: 'm-grid-03-worker', provider: 'oidc', state: 'active' })]));
        expect(JSON.stringify(list.body)).not.toMatch(/hash/);
        expect(revoke.status).toBe(200);
        expect(revoke.body).toEqual({ id, revoked: true });
        const next = await b.api('GET', '/api/me');
        expect(next.status).toBe(401);
        expect(next.body.detail).toContain(`the session was revoked by ${caller === 'admin' ? 'admin' : caller}`);
      } else {
        expect([list.status, revoke.status]).toEqual([403, 403]);
        expect(revoke.body.detail).toContain('grid-03\'s grid leader');
        expect((await b.api('GET', '/api/me')).status).toBe(200);
      }
    }
    process.stdout.write(`sessions of m-grid-03-worker: ${JSON.stringify(matrix)}\n`);
    const listed = await h.call('GET', '/api/members/m-grid-03-worker/sessions');
    expect(listed.body.items.filter((s: { state: string }) => s.state === 'revoked').length).toBeGreaterThanOrEqual(3);
    expect((await h.call('DELETE', '/api/sessions/no-such-session')).status).toBe(404);
    expect((await h.call('GET', '/api/members/m-nobody/sessions')).status).toBe(404);
  });

  test('a manager signed in with a session revokes with it (CSRF token sent), as with a token', async () => {
    expect((await h.call('POST', '/api/members/m-party-secretary/identities', { provider: 'oidc', subject: sub('secretary') })).status).toBe(201);
    provider.accounts.set(sub('secretary'), { name: '书记' });
    const { b: manager } = await signInOidc(sub('secretary'));
    const { b: worker } = await signInOidc(sub('w03'));
    const id = (await db().execute<{ id: string }[]>(`select id from console_session where hash = ?`, [sha256(decodeURIComponent(worker.cookie('gridflow_session') as string))]))[0].id;
    expect((await manager.api('DELETE', `/api/sessions/${id}`, undefined, { csrf: null })).status).toBe(403);
    expect((await manager.api('DELETE', `/api/sessions/${id}`)).status).toBe(200);
    expect((await worker.api('GET', '/api/me')).body.detail).toContain('revoked by m-party-secretary');
  });
});

describe('from the command line', () => {
  const gridflow = (...args: string[]): Promise<{ code: number | null; out: string; err: string }> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [path.resolve(__dirname, '..', '..', 'bin', 'gridflow'), ...args],
        { env: { ...process.env, GRIDFLOW_URL: h.baseUrl, GRIDFLOW_TOKEN: h.token, GRIDFLOW_CLI_FROM_SOURCE: '1' }, encoding: 'utf8', timeout: 60_000 },
        (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, out: stdout, err: stderr }),
      );
    });

  test('an administrator links a WeCom account, lists the member\'s sessions and revokes one', async () => {
    const userid = sub('WangWu');
    expect(await gridflow('identity', 'link', '--member', 'm-grid-06-worker', '--provider', 'wecom', '--subject', userid)).toMatchObject({ code: 0, out: `wecom account ${userid} linked to m-grid-06-worker\n` });
    wecom.signedIn = userid;
    const b = new Browser();
    expect((await b.follow(`${base}/auth/wecom/login`, atConsole)).answer.status).toBe(303);
    const listed = await gridflow('sessions', 'm-grid-06-worker');
    expect(listed.code).toBe(0);
    const id = /^(\w+)\s+active\s+wecom /m.exec(listed.out)?.[1] as string;
    expect(id).toBeDefined();
    expect(await gridflow('session', 'revoke', id)).toMatchObject({ code: 0, out: `revoked ${id}\n` });
    expect((await b.api('GET', '/api/me')).status).toBe(401);
    // Each run of the CLI compiles it from source: three are enough (unlinking has its API test above).
  }, 180_000);
});
