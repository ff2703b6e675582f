import { PassThrough } from 'node:stream';
import { extractAccessToken, parseRequestUrl, rejectUpgrade } from './upgrade-request';

describe('extractAccessToken', () => {
  const url = (raw: string) => parseRequestUrl(raw);

  it('reads a bearer token from the Authorization header, any scheme case', () => {
    expect(extractAccessToken('Bearer abc.def.ghi', url('/ws'))).toBe('abc.def.ghi');
    expect(extractAccessToken('bearer abc', url('/ws'))).toBe('abc');
  });

  it('prefers the header over the query', () => {
    expect(extractAccessToken('Bearer header', url('/ws?token=query'))).toBe('header');
  });

  it('does not fall back to the query when the header has another scheme', () => {
    expect(extractAccessToken('Basic dXNlcjpwYXNz', url('/ws?token=query'))).toBeUndefined();
    expect(extractAccessToken('Bearer', url('/ws?token=query'))).toBeUndefined();
  });

  it('reads ?token= for browsers', () => {
    expect(extractAccessToken(undefined, url('/ws?token=abc'))).toBe('abc');
    expect(extractAccessToken(undefined, url('/ws?token='))).toBeUndefined();
    expect(extractAccessToken(undefined, url('/ws'))).toBeUndefined();
  });
});

describe('rejectUpgrade', () => {
  it('writes an HTTP error with the JSON body and ends the socket', async () => {
    const socket = new PassThrough();
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise((resolve) => socket.on('end', resolve));
    rejectUpgrade(socket, 401, { statusCode: 401, code: 'UNAUTHENTICATED' }, { 'WWW-Authenticate': 'Bearer' });
    await ended;
    const text = Buffer.concat(chunks).toString();
    expect(text).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    expect(text).toContain('WWW-Authenticate: Bearer\r\n');
    expect(text.split('\r\n\r\n')[1]).toBe('{"statusCode":401,"code":"UNAUTHENTICATED"}');
  });
});
