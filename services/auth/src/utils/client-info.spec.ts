import { describeDevice, normaliseUserAgent, unmapIpv4, USER_AGENT_MAX_LENGTH } from './client-info';

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

describe('describeDevice', () => {
  it.each([
    ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', 'Firefox on Linux'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0', 'Edge on Windows'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1', 'Safari on iOS'],
    ['Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36', 'Chrome on Android'],
    ['curl/8.5.0', 'curl'],
    [undefined, 'Unknown device'],
    ['something else', 'Unknown device'],
  ])('%p → %p', (userAgent, label) => {
    expect(describeDevice(userAgent)).toBe(label);
  });
});
