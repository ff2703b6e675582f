import { ClaimCursorCodec } from './claim-cursor';

describe('ClaimCursorCodec', () => {
  it('round-trips a position exactly', () => {
    const cursor = { createdAt: new Date('2026-11-22T03:04:05.678Z'), id: '3f2b8a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b' };
    const encoded = ClaimCursorCodec.encode(cursor);
    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(ClaimCursorCodec.decode(encoded)).toEqual(cursor);
  });

  it.each([
    ['not base64url', 'abc$%^'],
    ['no separator', Buffer.from('12345').toString('base64url')],
    ['not a uuid', Buffer.from('12345:robert); DROP TABLE claims').toString('base64url')],
    ['not a number', Buffer.from('abc:3f2b8a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b').toString('base64url')],
    ['out of range date', Buffer.from('999999999999999:3f2b8a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b').toString('base64url')],
  ])('refuses %s', (_label, value) => {
    expect(ClaimCursorCodec.decode(value)).toBeUndefined();
  });
});
