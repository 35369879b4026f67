import http from 'node:http';
import { dist, ms, type Dist } from './env';
import { memberOf, type Who } from './paths';

export type HttpClient = ReturnType<typeof httpClient>;

/** A keep-alive HTTP client for loopback, with the bench's admin token unless a request names another. */
export function httpClient(baseUrl: string, token: string, connections: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const url = new URL(baseUrl);
  return {
    agent,
    request(method: string, path: string, body?: unknown, as = token): Promise<{ status: number; body: string }> {
      const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      return new Promise((resolve, reject) => {
        const req = http.request(
          {
            agent,
            host: url.hostname,
            port: url.port,
            method,
            path,
            headers: { authorization: `Bearer ${as}`, ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {}) },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(data);
      });
    },
  };
}

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  perSecond: number;
  latency: Dist;
}

/** Closed-loop load: `connections` requests in flight for `seconds`, each path from `next()`. */
export async function load(client: ReturnType<typeof httpClient>, connections: number, seconds: number, next: () => string): Promise<LoadResult> {
  const lat: number[] = [];
  let errors = 0;
  const until = Date.now() + seconds * 1000;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < until) {
        const t = process.hrtime.bigint();
        const r = await client.request('GET', next());
        lat.push(ms(t));
        if (r.status !== 200) errors++;
      }
    }),
  );
  const s = ms(t0) / 1000;
  return { requests: lat.length, errors, seconds: Math.round(s * 10) / 10, perSecond: Math.round(lat.length / s), latency: dist(lat) };
}

/**
 * Tokens for the members who send an issue's events in `grid` (its worker and leader, a community
 * manager), made by the admin through POST /api/tokens. `name` sets them apart: the API limits each
 * caller (role, name and member) on its own.
 */
export async function memberTokens(client: HttpClient, name: string, grid: string): Promise<Record<Who, string>> {
  const make = async (who: Who) => {
    const memberId = memberOf(who, grid);
    const role = who === 'manager' ? 'manager' : who === 'leader' ? 'grid-leader' : 'grid-worker';
    const r = await client.request('POST', '/api/tokens', { role, name: `${name}-${who}`, memberId, ...(who === 'manager' ? {} : { grids: [grid] }) });
    if (r.status !== 201) throw new Error(`POST /api/tokens for ${memberId} answered ${r.status}: ${r.body}`);
    return (JSON.parse(r.body) as { token: string }).token;
  };
  return { worker: await make('worker'), leader: await make('leader'), manager: await make('manager') };
}
