import { BusHeaders, Commands, Events, type Envelope } from '@rallyforge/contracts';
import { BusValidationError } from './bus.errors';
import { createEnvelope, decodeMessage, findLatestContract, requireContract, toOutgoingMessage } from './message-envelope';
import { buildMessageHeaders } from './message-headers';

const claimCreated = {
  claimId: '0e0c5a5e-1111-4a4a-8b8b-000000000001',
  ownerId: '0e0c5a5e-1111-4a4a-8b8b-000000000002',
  title: 'Hearing loss',
  type: 'disability',
  status: 'draft',
};

function encode(body: unknown): Buffer {
  return Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
}

describe('createEnvelope', () => {
  it('wraps a valid payload with id, type, version, tenant, time and actor', () => {
    const actor = { kind: 'user' as const, id: 'u-1', roles: ['member'] };
    const envelope = createEnvelope(Events.claimCreated, claimCreated, { tenantId: 'acme', actor, occurredAt: new Date('2025-01-01T00:00:00Z') });
    expect(envelope).toMatchObject({ type: 'claim.created', version: 1, tenantId: 'acme', actor, occurredAt: '2025-01-01T00:00:00.000Z', data: claimCreated });
    expect(envelope.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps a given message id (idempotent re-publish)', () => {
    const id = '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a';
    expect(createEnvelope(Events.claimCreated, claimCreated, { tenantId: 'acme', messageId: id }).id).toBe(id);
  });

  it('refuses a payload that breaks its contract, naming the field', () => {
    const bad = { ...claimCreated, claimId: 'nope' };
    expect(() => createEnvelope(Events.claimCreated, bad, { tenantId: 'acme' })).toThrow(BusValidationError);
    expect(() => createEnvelope(Events.claimCreated, bad, { tenantId: 'acme' })).toThrow(/claim\.created@1.*claimId/);
  });

  it('refuses an empty tenant', () => {
    expect(() => createEnvelope(Events.claimCreated, claimCreated, { tenantId: '' })).toThrow(/tenantId/);
  });

  it('applies schema defaults', () => {
    const envelope = createEnvelope(
      Commands.upsertOrganisation,
      { tenantId: 'acme', displayName: 'Acme', registration: 'open', admins: [] } as never,
      { tenantId: '_platform' },
    );
    expect((envelope.data as { suspended: boolean }).suspended).toBe(false);
  });
});

describe('contract lookup', () => {
  it('finds the latest version of a type, and nothing for an unknown type', () => {
    expect(findLatestContract('claim.created')).toBe(Events.claimCreated);
    expect(findLatestContract('claim.nope')).toBeUndefined();
  });

  it('throws an actionable error for an unknown type or version', () => {
    expect(() => requireContract('claim.nope')).toThrow(/add it to @rallyforge\/contracts/);
    expect(() => requireContract('claim.created', 7)).toThrow(/version 7/);
    expect(requireContract('claim.created', 1)).toBe(Events.claimCreated);
  });
});

describe('toOutgoingMessage', () => {
  it('publishes on the topic exchange with the type as routing key, persistent, with bus headers', () => {
    const envelope = createEnvelope(Events.claimCreated, claimCreated, { tenantId: 'acme' });
    const message = toOutgoingMessage(envelope, { trace: { traceparent: '00-a-b-01' }, appId: 'claims' });
    expect(message.exchange).toBe('rallyforge.events');
    expect(message.routingKey).toBe('claim.created');
    expect(message.options).toMatchObject({ persistent: true, messageId: envelope.id, type: 'claim.created', appId: 'claims', contentType: 'application/json' });
    expect(message.options.headers).toMatchObject({ [BusHeaders.tenantId]: 'acme', traceparent: '00-a-b-01', [BusHeaders.attempt]: 1 });
    expect(JSON.parse(message.content.toString())).toEqual(envelope);
  });
});

describe('decodeMessage', () => {
  const envelope = createEnvelope(Events.claimCreated, claimCreated, { tenantId: 'acme' });
  const headers = buildMessageHeaders(envelope);

  it('accepts a valid message and returns its contract', () => {
    const decoded = decodeMessage(encode(envelope), headers);
    expect(decoded.ok).toBe(true);
    if (decoded.ok) {
      expect(decoded.contract).toBe(Events.claimCreated);
      expect(decoded.envelope.data).toEqual(claimCreated);
    }
  });

  it('returns the parsed payload (defaults applied)', () => {
    const command: Envelope = { ...envelope, type: 'auth.organisation.upsert', data: { tenantId: 'acme', displayName: 'Acme', registration: 'open', admins: [] } };
    const decoded = decodeMessage(encode(command), buildMessageHeaders(command));
    expect(decoded.ok && (decoded.envelope.data as { suspended: boolean }).suspended).toBe(false);
  });

  it.each<[string, Buffer, Record<string, unknown>, RegExp]>([
    ['a body that is not JSON', encode('{nope'), headers, /not JSON/],
    ['an envelope without id', encode({ ...envelope, id: undefined }), headers, /Envelope is invalid: id/],
    ['an unknown type', encode({ ...envelope, type: 'claim.exploded' }), headers, /Unknown message type claim\.exploded@1/],
    ['an unknown version', encode({ ...envelope, version: 9 }), { ...headers, [BusHeaders.messageVersion]: 9 }, /Unknown message type claim\.created@9/],
    ['a missing tenant header', encode(envelope), { ...headers, [BusHeaders.tenantId]: undefined }, /x-rf-tenant-id is missing/],
    ['a tenant header that differs from the envelope', encode(envelope), { ...headers, [BusHeaders.tenantId]: 'other' }, /"other" does not match envelope tenant "acme"/],
    ['a type header that differs from the envelope', encode(envelope), { ...headers, [BusHeaders.messageType]: 'claim.closed' }, /does not match envelope type/],
    ['a payload that breaks the contract', encode({ ...envelope, data: { ...claimCreated, ownerId: 5 } }), headers, /claim\.created@1 does not match its contract: ownerId/],
  ])('rejects %s with the reason', (_case, body, messageHeaders, reason) => {
    const decoded = decodeMessage(body, messageHeaders);
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) expect(decoded.reason).toMatch(reason);
  });
});
