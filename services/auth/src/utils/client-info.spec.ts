import { normaliseUserAgent, TrustedProxies, unmapIpv4, USER_AGENT_MAX_LENGTH } from './client-info';

describe('TrustedProxies', () => {
  const proxies = TrustedProxies.parse('127.0.0.1, ::1, 10.0.0.0/8');

  it('uses the socket address when it is not a trusted proxy, whatever X-Forwarded-For says', () => {
    expect(proxies.clientAddress('203.0.113.7', '198.51.100.1')).toBe('203.0.113.7');
  });

  it('believes X-Forwarded-For from a trusted proxy and skips trusted hops from the right', () => {
    expect(proxies.clientAddress('127.0.0.1', '198.51.100.1')).toBe('198.51.100.1');
    expect(proxies.clientAddress('::ffff:127.0.0.1', '198.51.100.1, 10.1.2.3')).toBe('198.51.100.1');
    expect(proxies.clientAddress('::1', ['198.51.100.1', '10.1.2.3'])).toBe('198.51.100.1');
  });

  it('stops at the first untrusted hop: a client cannot forge addresses to the left of it', () => {
    expect(proxies.clientAddress('127.0.0.1', '1.1.1.1, 203.0.113.9')).toBe('203.0.113.9');
  });

  it('falls back to the nearest trusted hop when the header holds garbage or only proxies', () => {
    expect(proxies.clientAddress('127.0.0.1', 'not-an-ip')).toBe('127.0.0.1');
    expect(proxies.clientAddress('127.0.0.1', '10.0.0.5')).toBe('10.0.0.5');
    expect(proxies.clientAddress('127.0.0.1', undefined)).toBe('127.0.0.1');
  });

  it('handles IPv6 ranges', () => {
    const v6 = TrustedProxies.parse('fd00::/8');
    expect(v6.clientAddress('fd00::1', '2001:db8::5')).toBe('2001:db8::5');
    expect(v6.clientAddress('2001:db8::9', '2001:db8::5')).toBe('2001:db8::9');
  });

  it.each(['localhost', '10.0.0.0/33', '10.0.0.0/x', '::1/129'])('refuses the entry %p', (entry) => {
    expect(() => TrustedProxies.parse(entry)).toThrow(/TRUSTED_PROXIES/);
  });

  it('an empty list trusts nobody', () => {
    expect(TrustedProxies.parse('').clientAddress('127.0.0.1', '198.51.100.1')).toBe('127.0.0.1');
  });
});

describe('client details', () => {
  it('unmaps IPv4-mapped IPv6 addresses only', () => {
    expect(unmapIpv4('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(unmapIpv4('::1')).toBe('::1');
  });

  it('cleans and bounds the user agent', () => {
    expect(normaliseUserAgent(undefined)).toBeUndefined();
    expect(normaliseUserAgent('  ')).toBeUndefined();
    expect(normaliseUserAgent('Mozilla/5.0\r\nX-Evil: 1')).toBe('Mozilla/5.0X-Evil: 1');
    expect(normaliseUserAgent('a'.repeat(2000))).toHaveLength(USER_AGENT_MAX_LENGTH);
  });
});
