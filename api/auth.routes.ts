import { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import { z } from 'zod';
import type { IdentityProvider } from '../db/sessions.entities';
import { ProblemError, forbidden } from '../services/errors';
import { csrfTokenOf, type SessionService } from '../services/sessions.service';
import type { SignInService } from '../services/sign-in.service';
import { csrfRefusal } from './auth';
import { clearCookie, cookieNames, cookieOptions, readCookie } from './session-cookies';

/** What a provider sends back to its callback (the parameters the routes read; others are passed on to the checks). */
export const oidcCallbackQuery = z.object({
  code: z.string().optional(),
  state: z.string().optional(),
  iss: z.string().optional().describe('The issuer (RFC 9207), checked against the configured one'),
  error: z.string().optional(),
  error_description: z.string().optional(),
});
export const wecomCallbackQuery = z.object({ code: z.string().optional(), state: z.string().optional() });

const SIGN_IN_MS = 10 * 60_000;
const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A failed sign-in as a page for a person in a browser; as problem+json for anyone else. */
const signInFailurePage: ErrorRequestHandler = (err, req, res, next) => {
  if (!(err instanceof ProblemError) || req.accepts(['json', 'html']) !== 'html') return next(err);
  res
    .status(err.status)
    .set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
    .type('html')
    .send(
      `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>未能登录</title>` +
        `<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;line-height:1.6}</style></head><body><main>` +
        `<h1>未能登录 <span lang="en">(sign-in failed)</span></h1><p role="alert" lang="en">${escape(err.message)}</p><p><a href="/">返回登录页 <span lang="en">(back to sign-in)</span></a></p></main></body></html>`,
    );
};

/**
 * `/auth`: signing in to the console through an identity provider and signing out. Public: the
 * callbacks prove who the person is, then set the session cookie (HttpOnly) and the CSRF cookie the
 * console reads to send `X-CSRF-Token`.
 */
export function authRoutes(signIn: SignInService, sessions: SessionService): Router {
  const r = Router();
  // Read per request: the routes are also built where no sign-in is configured (the contract's test).
  const cookies = () => ({ secure: signIn.cookiePolicy().secure, names: cookieNames(signIn.cookiePolicy().secure) });

  r.get('/providers', (_req, res) => {
    res.json(signIn.providers());
  });

  const login = (provider: IdentityProvider) => async (_req: Request, res: Response) => {
    const { secure, names } = cookies();
    const { location, attemptCookie } = await signIn.start(provider);
    res.cookie(names.signIn, attemptCookie, { ...cookieOptions(secure), maxAge: SIGN_IN_MS });
    res.redirect(302, location);
  };

  const callback = (provider: IdentityProvider) => async (req: Request, res: Response) => {
    const { secure, names } = cookies();
    const query = new URL(req.originalUrl, 'http://callback').searchParams;
    const attemptCookie = readCookie(req, names.signIn);
    clearCookie(res, names.signIn, secure);
    const done = await signIn.finish(provider, { query, attemptCookie, userAgent: req.get('user-agent'), address: req.ip });
    const maxAge = done.expiresAt.getTime() - Date.now();
    res.cookie(names.session, done.secret, { ...cookieOptions(secure), maxAge });
    // Readable by the console's script, which echoes it in X-CSRF-Token; another site can read neither cookie.
    res.cookie(names.csrf, csrfTokenOf(done.secret), { ...cookieOptions(secure, false), maxAge });
    res.redirect(303, '/');
  };

  r.get('/oidc/login', login('oidc'));
  r.get('/oidc/callback', callback('oidc'));
  r.get('/wecom/login', login('wecom'));
  r.get('/wecom/callback', callback('wecom'));

  // Sign-out ends the session for good (its row goes) and clears the cookies. Without a session there is nothing to end.
  r.post('/signout', async (req, res) => {
    const { secure, names } = cookies();
    const secret = readCookie(req, names.session);
    if (secret !== undefined) {
      const refusal = csrfRefusal(req, secret, signIn.origins());
      if (refusal) throw forbidden(refusal);
      await sessions.close(secret);
    }
    clearCookie(res, names.session, secure);
    clearCookie(res, names.csrf, secure, false);
    res.status(204).end();
  });

  r.use(signInFailurePage);
  return r;
}
