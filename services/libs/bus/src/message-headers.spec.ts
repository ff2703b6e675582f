import { BusHeaders, type Envelope } from '@rallyforge/contracts';
import { BUS_MAX_ERROR_LENGTH, BusInternalHeaders } from './bus.constants';
import { buildMessageHeaders, describeError, parkedHeaders, readAttempt, readStringHeader, replayedHeaders, republishHeaders } from './message-headers';

const envelope: Envelope = {
  id: '5b1f2d3c-8a6e-4f7a-9c0d-1e2f3a4b5c6d',
  type: 'claim.created',
  version: 1,
  tenantId: 'acme',
  occurredAt: '2025-01-01T00:00:00.000Z',
  data: {},
};

describe('buildMessageHeaders', () => {
  it('carries tenant, type, version, attempt and the trace context', () => {
    const headers = buildMessageHeaders(envelope, { attempt: 2, trace: { traceparent: '00-abc-def-01', tracestate: 'k=v' } });
    expect(headers).toEqual({
      'x-rf-tenant-id': 'acme',
      'x-rf-message-type': 'claim.created',
      'x-rf-message-version': 1,
      'x-rf-attempt': 2,
      traceparent: '00-abc-def-01',
      tracestate: 'k=v',
    });
  });

  it('starts at attempt 1 and omits absent trace headers', () => {
    const headers = buildMessageHeaders(envelope);
    expect(headers[BusHeaders.attempt]).toBe(1);
    expect(headers).not.toHaveProperty('traceparent');
  });
});

describe('reading headers', () => {
  it('reads strings whatever their AMQP encoding', () => {
    expect(readStringHeader({ a: 'x', b: Buffer.from('y'), c: 3 }, 'a')).toBe('x');
    expect(readStringHeader({ b: Buffer.from('y') }, 'b')).toBe('y');
    expect(readStringHeader({ c: 3 }, 'c')).toBe('3');
    expect(readStringHeader(undefined, 'a')).toBeUndefined();
  });

  it('reads the attempt, defaulting to the first for anything unreadable', () => {
    expect(readAttempt({ [BusHeaders.attempt]: 3 })).toBe(3);
    expect(readAttempt({ [BusHeaders.attempt]: '4' })).toBe(4);
    expect(readAttempt({ [BusHeaders.attempt]: 0 })).toBe(1);
    expect(readAttempt({ [BusHeaders.attempt]: 'many' })).toBe(1);
    expect(readAttempt(undefined)).toBe(1);
  });
});

describe('describeError', () => {
  it('names the error class and message', () => {
    expect(describeError(new TypeError('bad input'))).toBe('TypeError: bad input');
    expect(describeError({ status: 'error', message: 'Internal server error' })).toBe('Internal server error');
    expect(describeError('plain')).toBe('plain');
  });

  it('truncates long errors so headers stay small', () => {
    const text = describeError(new Error('x'.repeat(10_000)));
    expect(text.length).toBe(BUS_MAX_ERROR_LENGTH);
    expect(text.endsWith('…')).toBe(true);
  });
});

describe('republishing headers', () => {
  const delivered = {
    [BusHeaders.tenantId]: 'acme',
    [BusHeaders.attempt]: 3,
    traceparent: '00-abc-def-01',
    'x-death': [{ count: 2, queue: 'rf.claims.retry.1000' }],
    'x-first-death-queue': 'rf.claims.retry.1000',
  };

  it('drops the broker dead-letter bookkeeping and applies changes', () => {
    const headers = republishHeaders(delivered, { [BusHeaders.attempt]: 4 });
    expect(headers).toEqual({ [BusHeaders.tenantId]: 'acme', [BusHeaders.attempt]: 4, traceparent: '00-abc-def-01' });
  });

  it('records error, reason, origin and time when parking', () => {
    const headers = parkedHeaders(delivered, {
      error: 'Error: boom',
      reason: 'failed',
      originalQueue: 'rf.claims',
      originalRoutingKey: 'claim.created',
      parkedAt: new Date('2025-02-03T04:05:06.000Z'),
    });
    expect(headers).toMatchObject({
      [BusHeaders.error]: 'Error: boom',
      [BusInternalHeaders.parkReason]: 'failed',
      [BusHeaders.originalQueue]: 'rf.claims',
      [BusHeaders.originalRoutingKey]: 'claim.created',
      [BusHeaders.parkedAt]: '2025-02-03T04:05:06.000Z',
      [BusHeaders.attempt]: 3,
      traceparent: '00-abc-def-01',
    });
    expect(headers).not.toHaveProperty('x-death');
  });

  it('resets attempts and clears the error when replaying', () => {
    const parked = parkedHeaders(delivered, {
      error: 'Error: boom',
      reason: 'failed',
      originalQueue: 'rf.claims',
      originalRoutingKey: 'claim.created',
      parkedAt: new Date(),
    });
    const headers = replayedHeaders(parked, new Date('2025-02-03T04:05:06.000Z'));
    expect(headers[BusHeaders.attempt]).toBe(1);
    expect(headers[BusInternalHeaders.replayedAt]).toBe('2025-02-03T04:05:06.000Z');
    expect(headers).not.toHaveProperty(BusHeaders.error);
    expect(headers).not.toHaveProperty(BusInternalHeaders.parkReason);
    expect(headers[BusHeaders.tenantId]).toBe('acme');
  });
});
