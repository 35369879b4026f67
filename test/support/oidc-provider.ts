import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/*
 * A real OpenID Provider for the tests: panva's oidc-provider (the certified implementation),
 * started in-process on a loopback port. Its login page lists the test accounts; a test (or the
 * browser) picks one. Consent is granted without asking, as a first-party client's would be.
 * The token endpoint's answer can be rewritten, so a test can hand the relying party an ID token
 * that is expired (signed with the provider's own key) or tampered with (not signed again).
 */

// oidc-provider is ESM-only and ships no types: the few parts used here.
interface Interaction {
  uid: string;
  prompt: { name: string };
  params: Record<string, unknown>;
}
interface ProviderInstance {
  callback(): (req: http.IncomingMessage, res: http.ServerResponse) => void;
  interactionDetails(req: http.IncomingMessage, res: http.ServerResponse): Promise<Interaction>;
  interactionFinished(req: http.IncomingMessage, res: http.ServerResponse, result: Record<string, unknown>, opts?: { mergeWithLastSubmission?: boolean }): Promise<void>;
  Grant: new (p: { clientId: string; accountId: string }) => { addOIDCScope(scope: string): void; save(): Promise<string> };
}
type ProviderClass = new (issuer: string, config: Record<string, unknown>) => ProviderInstance;

export interface Claims {
  name?: string;
  preferred_username?: string;
  email?: string;
  [claim: string]: unknown;
}

export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Accounts by subject; add or remove between tests. */
  accounts: Map<string, Claims>;
  /** Rewrites the next token endpoint answers while set (an ID token made expired or tampered with). */
  rewriteTokenResponse?: (body: Record<string, unknown>) => Record<string, unknown>;
  /** A JWT signed with the provider's own key, as its ID tokens are. */
  sign(payload: Record<string, unknown>): string;
  close(): Promise<void>;
}

/**
 * The provider warns about how it is deployed: Node 20 rather than 22, and its in-memory store. Both
 * are what a test provider wants, so those warnings are left out of the test output.
 */
function quietly<T>(f: () => T): T {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).startsWith('oidc-provider WARNING')) warn(...args);
  };
  try {
    return f();
  } finally {
    console.warn = warn;
  }
}

const b64 = (v: Buffer | string) => Buffer.from(v).toString('base64url');

function loginPage(uid: string, accounts: Map<string, Claims>): string {
  const options = [...accounts].map(([sub, c]) => `<option value="${sub}">${c.name ?? sub} (${sub})</option>`).join('');
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>统一身份认证</title></head><body><main>
<h1>统一身份认证（测试）</h1>
<form method="post" action="/interaction/${uid}"><label for="account">账号</label><select id="account" name="account">${options}</select>
<button type="submit">确认登录</button></form></main></body></html>`;
}

async function formBody(req: http.IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** Starts the provider; `redirectUris` are the relying party's callbacks, known once its server listens. */
export async function startOidcProvider(opts: { redirectUris: string[]; accounts?: Record<string, Claims>; idTokenSeconds?: number }): Promise<TestProvider> {
  // require() so that jest's ESM transform (jest.config.js) compiles the package for its loader.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Provider = quietly(() => (require('oidc-provider') as { default: ProviderClass }).default);
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = crypto.randomBytes(8).toString('hex');
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  const clientId = 'gridflow-console';
  const clientSecret = crypto.randomBytes(24).toString('base64url');
  const accounts = new Map(Object.entries(opts.accounts ?? {}));

  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const provider = quietly(() => new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: opts.redirectUris, grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' }],
    jwks: { keys: [jwk] },
    cookies: { keys: [crypto.randomBytes(16).toString('hex')] },
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email'] },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: Interaction) => `/interaction/${interaction.uid}` },
    findAccount: async (_ctx: unknown, sub: string) => {
      const claims = accounts.get(sub);
      return claims && { accountId: sub, claims: async () => ({ sub, ...claims }) };
    },
    // A first-party client: what it asks for is granted without a consent screen.
    loadExistingGrant: async (ctx: { oidc: { client: { clientId: string }; session: { accountId?: string }; provider: ProviderInstance } }) => {
      const accountId = ctx.oidc.session.accountId;
      if (!accountId) return undefined;
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId });
      grant.addOIDCScope('openid profile email');
      await grant.save();
      return grant;
    },
    ttl: { IdToken: opts.idTokenSeconds ?? 3600, AccessToken: 600, Grant: 3600, Session: 3600, Interaction: 600 },
  }));
  const handle = provider.callback();

  const t: TestProvider = {
    issuer,
    clientId,
    clientSecret,
    accounts,
    sign(payload) {
      const head = b64(JSON.stringify({ alg: 'RS256', kid, typ: 'JWT' }));
      const body = b64(JSON.stringify(payload));
      return `${head}.${body}.${b64(crypto.sign('sha256', Buffer.from(`${head}.${body}`), privateKey))}`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };

  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', issuer);
    const interaction = /^\/interaction\/([\w-]+)$/.exec(url.pathname);
    if (interaction) {
      void (async () => {
        try {
          const details = await provider.interactionDetails(req, res);
          if (req.method === 'GET') {
            res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(loginPage(details.uid, accounts));
            return;
          }
          const account = (await formBody(req)).get('account') ?? '';
          await provider.interactionFinished(req, res, accounts.has(account) ? { login: { accountId: account } } : { error: 'access_denied', error_description: `no account "${account}"` }, { mergeWithLastSubmission: false });
        } catch (e) {
          res.writeHead(400, { 'content-type': 'text/plain' }).end(String((e as Error).message));
        }
      })();
      return;
    }
    const rewrite = t.rewriteTokenResponse;
    if (rewrite && url.pathname === '/token') {
      // The answer is JSON written in one end(); rewrite it there, before its headers go out.
      const end = res.end.bind(res) as (chunk?: unknown) => http.ServerResponse;
      (res as unknown as { end: (chunk?: unknown) => http.ServerResponse }).end = (chunk?: unknown) => {
        if (res.statusCode !== 200 || chunk == null) return end(chunk);
        const body = Buffer.from(JSON.stringify(rewrite(JSON.parse(Buffer.from(chunk as Buffer).toString('utf8')))));
        res.setHeader('content-length', body.length);
        return end(body);
      };
    }
    handle(req, res);
  });
  return t;
}

/** The parts of a JWT, decoded. */
export function decodeJwt(jwt: string): { header: Record<string, unknown>; payload: Record<string, unknown>; signature: string } {
  const [h, p, s] = jwt.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url').toString()), payload: JSON.parse(Buffer.from(p, 'base64url').toString()), signature: s };
}
