import crypto from 'node:crypto';
import * as oidc from 'openid-client';
import type { SignInSettings } from '../config/config';
import type { IdentityProvider } from '../db/sessions.entities';
import type { Member } from '../db/community.entities';
import { badRequest, forbidden, ProblemError, unavailable } from './errors';
import type { SessionService } from './sessions.service';

const PROVIDER_NAMES: Record<IdentityProvider, string> = { oidc: 'the unified sign-in (OpenID Connect)', wecom: 'WeCom' };
const unauthorized = (detail: string) => new ProblemError(401, 'Unauthorized', detail);
const again = (provider: IdentityProvider) => `start again at /auth/${provider}/login`;

/** An account at a provider, as its answer says: the stable subject and what it says about the person. */
interface ProviderAccount {
  subject: string;
  /** For the refusal of an unlinked account: a name the person recognises (asked only then). */
  label?: () => Promise<string | undefined>;
  /** The member id the configured claim names (OIDC, GRIDFLOW_OIDC_MEMBER_CLAIM). */
  claimedMember?: { claim: string; value: string };
}

/** The provider's answer, as the callback received it. */
export interface Callback {
  query: URLSearchParams;
  /** The secret of the sign-in cookie set when the browser left for the provider. */
  attemptCookie: string | undefined;
  userAgent?: string;
  address?: string;
}

/**
 * Signing people in through an identity provider: OpenID Connect (authorization code with PKCE;
 * state, nonce and the ID token's signature, issuer, audience and expiry checked by openid-client)
 * and WeCom's OAuth (code to user id). Either ends the same way: the provider's account is mapped to
 * a registry member (a link made by an administrator, or the configured claim naming the member) and
 * a session is opened for them.
 */
export class SignInService {
  private oidcConfig?: Promise<oidc.Configuration>;
  private wecomToken?: { value: string; until: number };

  constructor(
    private readonly settings: SignInSettings,
    private readonly sessions: SessionService,
  ) {}

  /** Which providers are configured: the console offers these. */
  providers(): { oidc: boolean; wecom: boolean } {
    return { oidc: Boolean(this.settings.oidc), wecom: Boolean(this.settings.wecom) };
  }

  /** Whether the console's cookies are Secure (GRIDFLOW_SESSION_COOKIE_SECURE). */
  cookiePolicy(): { secure: boolean } {
    return { secure: this.settings.session.secureCookie };
  }

  /** The origins people reach the console at (the callbacks'): cookie requests must come from one of them. */
  origins(): string[] {
    return [...new Set([this.settings.oidc?.redirectUrl, this.settings.wecom?.redirectUrl].filter((u): u is string => Boolean(u)).map((u) => new URL(u).origin))];
  }

  private configured(provider: IdentityProvider): void {
    if (!this.providers()[provider]) {
      const vars = provider === 'oidc' ? 'GRIDFLOW_OIDC_ISSUER, GRIDFLOW_OIDC_CLIENT_ID and GRIDFLOW_OIDC_REDIRECT_URL' : 'GRIDFLOW_WECOM_CORP_ID, GRIDFLOW_WECOM_SECRET, GRIDFLOW_WECOM_AGENT_ID and GRIDFLOW_WECOM_REDIRECT_URL';
      throw new ProblemError(404, 'Not Found', `sign-in with ${PROVIDER_NAMES[provider]} is not configured on this server (${vars}); sign in with a token`);
    }
  }

  /** Where to send the browser, and the secret of the cookie that ties the callback to it. */
  async start(provider: IdentityProvider): Promise<{ location: string; attemptCookie: string }> {
    this.configured(provider);
    return provider === 'oidc' ? this.startOidc() : this.startWecom();
  }

  /** Checks the provider's answer and opens a session for the member the account is linked to. */
  async finish(provider: IdentityProvider, cb: Callback): Promise<{ sessionId: string; secret: string; expiresAt: Date; member: Member }> {
    this.configured(provider);
    if (!cb.attemptCookie) throw badRequest(`this browser has no sign-in under way with ${PROVIDER_NAMES[provider]} (its cookie is missing: another browser, or cookies blocked); ${again(provider)}`);
    const attempt = await this.sessions.takeSignIn(provider, cb.attemptCookie);
    if (!attempt) throw badRequest(`the sign-in with ${PROVIDER_NAMES[provider]} was already used or is older than 10 minutes; ${again(provider)}`);
    const state = cb.query.get('state');
    if (state !== attempt.state) throw badRequest(`the answer's state ${JSON.stringify(state)} is not the one this browser's sign-in sent; ${again(provider)}`);
    const account = provider === 'oidc' ? await this.finishOidc(cb.query, attempt.codeVerifier ?? '', attempt.nonce ?? '', state) : await this.finishWecom(cb.query);
    const member = await this.memberOf(provider, account);
    const opened = await this.sessions.open(member.id, provider, account.subject, { userAgent: cb.userAgent, address: cb.address });
    return { sessionId: opened.id, secret: opened.secret, expiresAt: opened.expiresAt, member };
  }

  private async memberOf(provider: IdentityProvider, account: ProviderAccount): Promise<Member> {
    const linked = await this.sessions.linkedMember(provider, account.subject);
    if (linked) return linked;
    if (account.claimedMember) {
      const byClaim = await this.sessions.linkByClaim(provider, account.subject, account.claimedMember.claim, account.claimedMember.value);
      if (byClaim) return byClaim;
    }
    const label = await account.label?.().catch(() => undefined);
    const who = `${label ? `"${label}", ` : ''}subject "${account.subject}"`;
    throw forbidden(
      `your account at ${PROVIDER_NAMES[provider]} (${who}) is not linked to an active member of the registry; an administrator must link it: POST /api/members/<member id>/identities {"provider":"${provider}","subject":"${account.subject}"} or gridflow identity link --member <member id> --provider ${provider} --subject ${account.subject}`,
    );
  }

  // OpenID Connect.

  private oidcClient(): Promise<oidc.Configuration> {
    const s = this.settings.oidc as NonNullable<SignInSettings['oidc']>;
    this.oidcConfig ??= (async () => {
      const issuer = new URL(s.issuer);
      const config = await oidc.discovery(issuer, s.clientId, undefined, s.clientSecret ? oidc.ClientSecretBasic(s.clientSecret) : oidc.None(), {
        // Config allows plain http only for a provider on this machine.
        execute: issuer.protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
        timeout: 10,
      });
      // ID tokens from the token endpoint have their signature checked too, not only TLS.
      oidc.enableNonRepudiationChecks(config);
      return config;
    })().catch((e: unknown) => {
      this.oidcConfig = undefined;
      throw unavailable(`the identity provider at ${s.issuer} could not be reached or did not describe itself (${(e as Error).message}); try again shortly`);
    });
    return this.oidcConfig;
  }

  private async startOidc(): Promise<{ location: string; attemptCookie: string }> {
    const s = this.settings.oidc as NonNullable<SignInSettings['oidc']>;
    const config = await this.oidcClient();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: s.redirectUrl,
      scope: s.scopes,
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { location: url.href, attemptCookie: await this.sessions.beginSignIn('oidc', { state, nonce, codeVerifier }) };
  }

  private async finishOidc(query: URLSearchParams, codeVerifier: string, nonce: string, state: string): Promise<ProviderAccount> {
    const s = this.settings.oidc as NonNullable<SignInSettings['oidc']>;
    const config = await this.oidcClient();
    // The URL the provider sent the browser to: the registered callback with the answer's parameters.
    const current = new URL(s.redirectUrl);
    current.search = query.toString();
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, current, { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
    } catch (e) {
      throw this.oidcFailure(e);
    }
    const claims = tokens.claims() as oidc.IDToken;
    let all: Record<string, unknown> = claims;
    // A claim the ID token lacks may be at the userinfo endpoint (profile claims often are).
    if (s.memberClaim && claims[s.memberClaim] === undefined) {
      try {
        all = { ...claims, ...(await oidc.fetchUserInfo(config, tokens.access_token, claims.sub)) };
      } catch (e) {
        throw this.oidcFailure(e);
      }
    }
    const nameIn = (c: Record<string, unknown>) => [c.name, c.preferred_username, c.email].find((v): v is string => typeof v === 'string');
    // The person's name, for telling them which account is not linked; often only at the userinfo endpoint.
    const label = async () => nameIn(all) ?? nameIn(await oidc.fetchUserInfo(config, tokens.access_token, claims.sub));
    const claimed = s.memberClaim ? all[s.memberClaim] : undefined;
    return { subject: claims.sub, label, claimedMember: s.memberClaim && typeof claimed === 'string' ? { claim: s.memberClaim, value: claimed } : undefined };
  }

  private oidcFailure(e: unknown): ProblemError {
    const err = e as Error & { code?: string; error?: string; error_description?: string; cause?: { message?: string } };
    if (e instanceof oidc.AuthorizationResponseError || e instanceof oidc.ResponseBodyError) {
      return unauthorized(`the identity provider refused the sign-in: ${err.error}${err.error_description ? ` (${err.error_description})` : ''}; ${again('oidc')}`);
    }
    if (e instanceof TypeError || err.code === 'OAUTH_TIMEOUT' || err.code === 'OAUTH_ABORT') {
      return unavailable(`the identity provider could not be reached (${err.message}); try again shortly`);
    }
    const why = [err.message, err.cause?.message].filter(Boolean).join(': ');
    return unauthorized(`the identity provider's answer did not verify (${why}); ${again('oidc')}`);
  }

  // WeCom: the OAuth of 企业微信 (网页授权), code to user id through the corp's access token.

  private async startWecom(): Promise<{ location: string; attemptCookie: string }> {
    const s = this.settings.wecom as NonNullable<SignInSettings['wecom']>;
    // WeCom takes a state of letters and digits, up to 128.
    const state = crypto.randomBytes(16).toString('hex');
    const url = new URL(s.authorizeUrl);
    url.search = new URLSearchParams({ appid: s.corpId, redirect_uri: s.redirectUrl, response_type: 'code', scope: 'snsapi_base', state, agentid: s.agentId }).toString();
    url.hash = 'wechat_redirect';
    return { location: url.href, attemptCookie: await this.sessions.beginSignIn('wecom', { state }) };
  }

  private async wecomCall(path: string, params: Record<string, string>): Promise<{ errcode?: number; errmsg?: string } & Record<string, unknown>> {
    const s = this.settings.wecom as NonNullable<SignInSettings['wecom']>;
    const url = new URL(path, s.baseUrl);
    url.search = new URLSearchParams(params).toString();
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    } catch (e) {
      throw unavailable(`WeCom at ${s.baseUrl} could not be reached (${(e as Error).message}); try again shortly`);
    }
    const body = (await res.json().catch(() => undefined)) as ({ errcode?: number; errmsg?: string } & Record<string, unknown>) | undefined;
    if (!res.ok || !body) throw unavailable(`WeCom answered ${path} with HTTP ${res.status}; try again shortly`);
    return body;
  }

  private async wecomAccessToken(fresh = false): Promise<string> {
    const s = this.settings.wecom as NonNullable<SignInSettings['wecom']>;
    if (!fresh && this.wecomToken && this.wecomToken.until > Date.now()) return this.wecomToken.value;
    const body = await this.wecomCall('/cgi-bin/gettoken', { corpid: s.corpId, corpsecret: s.secret });
    if (body.errcode || typeof body.access_token !== 'string') {
      throw unavailable(`WeCom refused gridflow's access token request (errcode ${body.errcode}: ${body.errmsg}); check GRIDFLOW_WECOM_CORP_ID and GRIDFLOW_WECOM_SECRET`);
    }
    // Renewed five minutes early (WeCom's tokens last two hours).
    this.wecomToken = { value: body.access_token, until: Date.now() + (Number(body.expires_in ?? 7200) - 300) * 1000 };
    return body.access_token;
  }

  private async finishWecom(query: URLSearchParams): Promise<ProviderAccount> {
    const code = query.get('code');
    if (!code) throw unauthorized(`WeCom sent no code (the person declined, or the link was opened outside WeCom); ${again('wecom')}`);
    let body = await this.wecomCall('/cgi-bin/auth/getuserinfo', { access_token: await this.wecomAccessToken(), code });
    // 40014 invalid, 42001 expired: the access token is made again once.
    if (body.errcode === 40014 || body.errcode === 42001) body = await this.wecomCall('/cgi-bin/auth/getuserinfo', { access_token: await this.wecomAccessToken(true), code });
    if (body.errcode) throw unauthorized(`WeCom did not accept the sign-in code (errcode ${body.errcode}: ${body.errmsg}); ${again('wecom')}`);
    if (typeof body.userid !== 'string' || !body.userid) {
      throw forbidden('WeCom says this person is not a member of the corp (an openid, no userid); only the corp\'s members sign in with WeCom');
    }
    return { subject: body.userid };
  }
}
