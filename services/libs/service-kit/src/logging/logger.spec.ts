import { Writable } from 'node:stream';
import { RequestContext } from '../context/request-context';
import { REDACTED, createLogger, redactValue } from './logger';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      callback();
    },
  });
  return { lines, destination };
}

describe('createLogger', () => {
  it('writes JSON with the service, a level label and an ISO time', () => {
    const { lines, destination } = capture();
    createLogger({ service: 'claims', destination }).info('hello');
    expect(lines[0]).toMatchObject({ service: 'claims', level: 'info', msg: 'hello' });
    expect(new Date(lines[0]!.time as string).toISOString()).toBe(lines[0]!.time);
  });

  it('redacts credentials and personal data at any depth', () => {
    const { lines, destination } = capture();
    createLogger({ service: 'auth', destination }).info(
      {
        password: 'p',
        body: { email: 'vet@example.org', refreshToken: 'r', name: 'kept' },
        req: { headers: { authorization: 'Bearer x', cookie: 'sid=1', 'set-cookie': 'sid=2', host: 'kept' } },
        a: { b: { c: { accessToken: 't' } } },
        err: { message: 'duplicate key', detail: 'Key (email)=(vet@example.org) already exists.' },
      },
      'login',
    );
    expect(lines[0]).toMatchObject({
      password: REDACTED,
      body: { email: REDACTED, refreshToken: REDACTED, name: 'kept' },
      req: { headers: { authorization: REDACTED, cookie: REDACTED, 'set-cookie': REDACTED, host: 'kept' } },
      a: { b: { c: { accessToken: REDACTED } } },
      err: { message: 'duplicate key', detail: REDACTED },
    });
    expect(JSON.stringify(lines[0])).not.toContain('vet@example.org');
  });

  it('redacts extra keys a service adds', () => {
    const { lines, destination } = capture();
    createLogger({ service: 'payments', destination, redactKeys: ['cardNumber'] }).info({ data: { cardNumber: '4242' } });
    expect(lines[0]).toMatchObject({ data: { cardNumber: REDACTED } });
  });

  it('adds requestId, tenantId and userId from the request context', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ service: 'claims', destination });
    RequestContext.run({ requestId: 'req-1' }, () => {
      RequestContext.assign({ tenantId: 'tenant-1', userId: 'user-1' });
      logger.info('inside');
    });
    logger.info('outside');
    expect(lines[0]).toMatchObject({ requestId: 'req-1', tenantId: 'tenant-1', userId: 'user-1' });
    expect(lines[1]).not.toHaveProperty('requestId');
  });

  it('redacts inside arrays and Error objects without changing the caller\'s objects', () => {
    const { lines, destination } = capture();
    const err = Object.assign(new Error('duplicate key'), { detail: 'Key (email)=(vet@example.org) already exists.' });
    const payload = { users: [{ email: 'a@b.org', id: 1 }], err };
    createLogger({ service: 'auth', destination }).error(payload, 'failed');
    expect(lines[0]).toMatchObject({ users: [{ email: REDACTED, id: 1 }], err: { message: 'duplicate key', detail: REDACTED } });
    expect(payload.users[0]!.email).toBe('a@b.org');
    expect(err.detail).toContain('vet@example.org');
  });

  it('returns an object with nothing to redact unchanged (no copy on the hot path)', () => {
    const clean = { req: { method: 'GET', url: '/api/v1/claims' }, res: { statusCode: 200 } };
    expect(redactValue(clean, new Set(['password']))).toBe(clean);
  });
});
