import { Writable } from 'node:stream';
import { RequestContext } from '../context/request-context';
import { REDACTED, createLogger, redactPaths } from './logger';

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

  it('builds valid paths for keys that need brackets', () => {
    expect(redactPaths(['set-cookie'])).toContain('*.*["set-cookie"]');
  });
});
