import type { CookieOptions, Request, Response } from 'express';

/** The header the console sends its session's CSRF token in. */
export const CSRF_HEADER = 'X-CSRF-Token';

/**
 * The console's cookies. Over https they carry the `__Host-` prefix: the browser then keeps them
 * only when Secure, for this host alone and the whole path, so a neighbouring subdomain cannot set
 * or shadow them.
 */
export function cookieNames(secure: boolean): { session: string; csrf: string; signIn: string } {
  const prefix = secure ? '__Host-' : '';
  return { session: `${prefix}gridflow_session`, csrf: `${prefix}gridflow_csrf`, signIn: `${prefix}gridflow_signin` };
}

/** One cookie of the request (Express 5 parses none). */
export function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) {
      const value = part.slice(at + 1).trim();
      try {
        return decodeURIComponent(value);
      } catch {
        return value;
      }
    }
  }
  return undefined;
}

/** Lax: sent on the provider's redirect back (a top-level GET), never on another site's POST or fetch. */
export const cookieOptions = (secure: boolean, httpOnly = true): CookieOptions => ({ httpOnly, secure, sameSite: 'lax', path: '/' });

export function clearCookie(res: Response, name: string, secure: boolean, httpOnly = true): void {
  res.clearCookie(name, cookieOptions(secure, httpOnly));
}
