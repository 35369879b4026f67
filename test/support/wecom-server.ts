import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small server speaking WeCom's sign-in protocol (企业微信网页授权), for the tests: the authorize
 * page (the person "in WeCom" is `signedIn`), `/cgi-bin/gettoken` (corp id and secret to an access
 * token) and `/cgi-bin/auth/getuserinfo` (access token and code to the userid; a code works once).
 * Error codes are WeCom's: 40001 bad secret, 42001 expired token, 40029 invalid code.
 */
export interface WecomServer {
  baseUrl: string;
  authorizeUrl: string;
  /** The WeCom user the next authorization is for: a corp member's userid, or `{ openid }` for an outsider. */
  signedIn: string | { openid: string };
  /** Access tokens issued so far. */
  tokensIssued: number;
  /** Makes every access token issued so far expired (WeCom's 42001). */
  expireTokens(): void;
  /** What the last authorize request asked for. */
  lastAuthorize?: URLSearchParams;
  close(): Promise<void>;
}

export async function startWecomServer(corp: { corpId: string; secret: string; agentId: string }): Promise<WecomServer> {
  const tokens = new Set<string>();
  const codes = new Map<string, string | { openid: string }>();
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const w: WecomServer = {
    baseUrl,
    authorizeUrl: `${baseUrl}/connect/oauth2/authorize`,
    signedIn: '',
    tokensIssued: 0,
    expireTokens: () => tokens.clear(),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const json = (res: http.ServerResponse, body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', baseUrl);
    const q = url.searchParams;
    if (url.pathname === '/connect/oauth2/authorize') {
      w.lastAuthorize = q;
      if (q.get('appid') !== corp.corpId || q.get('response_type') !== 'code') return void res.writeHead(400).end('bad appid or response_type');
      const code = crypto.randomBytes(16).toString('hex');
      codes.set(code, w.signedIn);
      const back = new URL(q.get('redirect_uri') ?? '');
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.get('state') ?? '');
      return void res.writeHead(302, { location: back.href }).end();
    }
    if (url.pathname === '/cgi-bin/gettoken') {
      if (q.get('corpid') !== corp.corpId || q.get('corpsecret') !== corp.secret) return json(res, { errcode: 40001, errmsg: 'invalid credential' });
      const token = crypto.randomBytes(24).toString('hex');
      tokens.add(token);
      w.tokensIssued += 1;
      return json(res, { errcode: 0, errmsg: 'ok', access_token: token, expires_in: 7200 });
    }
    if (url.pathname === '/cgi-bin/auth/getuserinfo') {
      if (!tokens.has(q.get('access_token') ?? '')) return json(res, { errcode: 42001, errmsg: 'access_token expired' });
      const who = codes.get(q.get('code') ?? '');
      if (who === undefined) return json(res, { errcode: 40029, errmsg: 'invalid code' });
      codes.delete(q.get('code') ?? '');
      return json(res, typeof who === 'string' ? { errcode: 0, errmsg: 'ok', userid: who, user_ticket: 'ticket' } : { errcode: 0, errmsg: 'ok', openid: who.openid });
    }
    res.writeHead(404).end();
  });
  return w;
}
