import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net, { type LookupFunction } from 'node:net';
import type { WebhookPolicy } from '../config/config';

/**
 * Where chat webhooks may go and how they are sent: only to the configured hosts, only to public
 * addresses (unless an operator allows private ones), each address checked as the connection is
 * made so a name that changes its answer between check and send can not slip through, and never
 * following a redirect.
 */

export class WebhookRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookRefused';
  }
}

// [network, prefix length, kind]; what is not listed is public.
const V4_RANGES: [string, number, string][] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared (carrier-grade NAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];
const V6_RANGES: [string, number, string][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['100::', 64, 'discard'],
  ['2001:db8::', 32, 'documentation'],
  ['fc00::', 7, 'private (unique local)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
];

const v4Bytes = (ip: string) => ip.split('.').map(Number);

/** The 16 bytes of an IPv6 address (with `::` and a trailing dotted quad). */
function v6Bytes(ip: string): number[] {
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const groups = (part: string | undefined) =>
    (part ? part.split(':') : []).flatMap((g) => (g.includes('.') ? [(v4Bytes(g)[0] << 8) | v4Bytes(g)[1], (v4Bytes(g)[2] << 8) | v4Bytes(g)[3]] : [parseInt(g, 16)]));
  const left = groups(head);
  const right = groups(tail);
  const all = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

function inRange(bytes: number[], network: number[], prefix: number): boolean {
  for (let bit = 0; bit < prefix; bit++) {
    const mask = 0x80 >> bit % 8;
    if ((bytes[bit >> 3] & mask) !== (network[bit >> 3] & mask)) return false;
  }
  return true;
}

const zero = (bytes: number[]) => bytes.every((b) => b === 0);

/** What kind of non-public address `ip` is (`loopback`, `private`, `link-local` ...), or undefined when it is public. */
export function addressKind(ip: string): string | undefined {
  const family = net.isIP(ip);
  if (family === 4) {
    const bytes = v4Bytes(ip);
    return V4_RANGES.find(([n, p]) => inRange(bytes, v4Bytes(n), p))?.[2];
  }
  if (family !== 6) return 'unparsable';
  const bytes = v6Bytes(ip.replace(/%.*$/, ''));
  const v4 = (from: number) => bytes.slice(from, from + 4).join('.');
  // IPv4 inside IPv6: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d), NAT64 (64:ff9b::/96), 6to4 (2002::/16).
  if (zero(bytes.slice(0, 10)) && bytes[10] === 0xff && bytes[11] === 0xff) return addressKind(v4(12));
  if (zero(bytes.slice(0, 12)) && !zero(bytes.slice(12, 15))) return addressKind(v4(12));
  if (inRange(bytes, v6Bytes('64:ff9b::'), 96)) return addressKind(v4(12));
  if (inRange(bytes, v6Bytes('2002::'), 16)) return addressKind(v4(2));
  return V6_RANGES.find(([n, p]) => inRange(bytes, v6Bytes(n), p))?.[2];
}

const bare = (host: string) => host.toLowerCase().replace(/^\[|\]$/g, '');

/** Whether `host` is on the list: the same name, or under a `*.example.com` entry. */
export function hostAllowed(host: string, hosts: string[]): boolean {
  const h = bare(host);
  return hosts.some((entry) => {
    const e = bare(entry);
    return e === h || (e.startsWith('*.') && h.endsWith(e.slice(1)) && h.length > e.length - 1);
  });
}

function refuseAddress(host: string, address: string, policy: WebhookPolicy): void {
  const kind = policy.allowPrivate ? undefined : addressKind(address);
  if (kind) {
    throw new WebhookRefused(`webhook host "${host}" is ${host === address ? '' : `at ${address}, `}a ${kind} address; webhooks go to public addresses only (GRIDFLOW_WEBHOOK_ALLOW_PRIVATE=true allows others)`);
  }
}

/** The URL's scheme and host against the policy; an address written in the URL is checked here, a name when it is looked up. */
export function checkWebhookUrl(url: URL, policy: WebhookPolicy): void {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new WebhookRefused(`webhook URL scheme "${url.protocol}" is not allowed; use https (or http)`);
  if (!hostAllowed(url.hostname, policy.hosts)) {
    throw new WebhookRefused(`webhook host "${bare(url.hostname)}" is not allowed; allowed hosts: ${policy.hosts.join(', ')} (GRIDFLOW_WEBHOOK_HOSTS)`);
  }
  if (net.isIP(bare(url.hostname))) refuseAddress(bare(url.hostname), bare(url.hostname), policy);
}

/** Looks `host` up and refuses it when any of its addresses is not allowed. */
export async function resolveWebhookHost(host: string, policy: WebhookPolicy): Promise<string[]> {
  const name = bare(host);
  if (net.isIP(name)) {
    refuseAddress(name, name, policy);
    return [name];
  }
  const found = await dns.promises.lookup(name, { all: true, verbatim: true }).catch((e: NodeJS.ErrnoException) => {
    throw new WebhookRefused(`webhook host "${name}" can not be looked up (${e.code ?? e.message}); check the URL`);
  });
  for (const a of found) refuseAddress(name, a.address, policy);
  return found.map((a) => a.address);
}

/** A lookup for the connection itself: the addresses it connects to are the ones just checked. */
function checkedLookup(policy: WebhookPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true, verbatim: true }, (err, addresses) => {
      if (err) return callback(err, '', 4);
      try {
        for (const a of addresses) refuseAddress(hostname, a.address, policy);
      } catch (e) {
        return callback(e as NodeJS.ErrnoException, '', 4);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, list: dns.LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

export interface WebhookAnswer {
  status: number;
  /** Where a redirect pointed; redirects are not followed. */
  location?: string;
  /** The first 64 KB of the body. */
  text: string;
}

/** POSTs `body` as JSON to an allowed webhook and gives its answer, without following redirects. */
export async function postWebhook(url: string, body: unknown, headers: Record<string, string>, policy: WebhookPolicy, timeoutMs = 5000): Promise<WebhookAnswer> {
  const target = new URL(url);
  checkWebhookUrl(target, policy);
  const send = target.protocol === 'https:' ? https.request : http.request;
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(payload.length), ...headers },
        lookup: checkedLookup(policy),
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < 65_536) chunks.push(c);
          size += c.length;
        });
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, text: Buffer.concat(chunks).toString('utf8').slice(0, 65_536) }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
