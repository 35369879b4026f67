import { addressKind, checkWebhookUrl, hostAllowed, WebhookRefused } from '../../services/webhooks';

test.each([
  ['127.0.0.1', 'loopback'],
  ['127.255.0.9', 'loopback'],
  ['10.1.2.3', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.168.1.1', 'private'],
  ['169.254.169.254', 'link-local'],
  ['100.64.0.1', 'shared (carrier-grade NAT)'],
  ['0.0.0.0', 'unspecified'],
  ['224.0.0.1', 'multicast'],
  ['::1', 'loopback'],
  ['::', 'unspecified'],
  ['fe80::1', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['fd12:3456::1', 'private (unique local)'],
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::ffff:a9fe:a9fe', 'link-local'],
  ['64:ff9b::10.0.0.1', 'private'],
  ['2002:c0a8:0101::1', 'private'],
])('%s is a %s address', (ip, kind) => {
  expect(addressKind(ip)).toBe(kind);
});

test.each(['101.226.129.166', '172.32.0.1', '8.8.8.8', '2408:8000::1', '::ffff:8.8.8.8'])('%s is public', (ip) => {
  expect(addressKind(ip)).toBeUndefined();
});

test('hosts match exactly or under a *. entry, in any case, IPv6 with or without brackets', () => {
  const hosts = ['qyapi.weixin.qq.com', '*.example.com', '::1'];
  expect(hostAllowed('QYAPI.weixin.qq.com', hosts)).toBe(true);
  expect(hostAllowed('qyapi.weixin.qq.com.evil.com', hosts)).toBe(false);
  expect(hostAllowed('evilqyapi.weixin.qq.com', hosts)).toBe(false);
  expect(hostAllowed('hooks.example.com', hosts)).toBe(true);
  expect(hostAllowed('example.com', hosts)).toBe(false);
  expect(hostAllowed('badexample.com', hosts)).toBe(false);
  expect(hostAllowed('[::1]', hosts)).toBe(true);
});

test('a URL is refused for its scheme, its host, or an address written in it, each saying what would do', () => {
  const strict = { hosts: ['qyapi.weixin.qq.com', '127.0.0.1', '[::1]'], allowPrivate: false };
  const refusal = (url: string) => {
    try {
      checkWebhookUrl(new URL(url), strict);
    } catch (e) {
      if (e instanceof WebhookRefused) return e.message;
      throw e;
    }
    return undefined;
  };
  expect(refusal('https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k')).toBeUndefined();
  expect(refusal('ftp://qyapi.weixin.qq.com/x')).toBe('webhook URL scheme "ftp:" is not allowed; use https (or http)');
  expect(refusal('https://hooks.evil.com/x')).toBe('webhook host "hooks.evil.com" is not allowed; allowed hosts: qyapi.weixin.qq.com, 127.0.0.1, [::1] (GRIDFLOW_WEBHOOK_HOSTS)');
  expect(refusal('http://127.0.0.1:8080/x')).toBe('webhook host "127.0.0.1" is a loopback address; webhooks go to public addresses only (GRIDFLOW_WEBHOOK_ALLOW_PRIVATE=true allows others)');
  expect(refusal('http://[::1]:8080/x')).toMatch(/^webhook host "::1" is a loopback address/);
  expect(() => checkWebhookUrl(new URL('http://127.0.0.1:8080/x'), { ...strict, allowPrivate: true })).not.toThrow();
});
