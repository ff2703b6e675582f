import { randomUUID } from 'node:crypto';
import type { Envelope } from '@rallyforge/contracts';
import { isDeliverableTenant, parseLiveEvent, recipientOf, toLiveEvent } from './live-event';

const owner = randomUUID();
const envelope = (type: string, data: unknown, version = 1): Envelope => ({
  id: randomUUID(),
  type,
  version,
  tenantId: 'demo',
  occurredAt: '2026-01-01T00:00:00.000Z',
  actor: { kind: 'user', id: owner, roles: [] },
  data,
});

describe('recipientOf', () => {
  it('names the owner of claim and document events and the payer of payment events', () => {
    expect(recipientOf(envelope('claim.created', { ownerId: owner }))).toBe(owner);
    expect(recipientOf(envelope('claim.evidence_added', { ownerId: owner }))).toBe(owner);
    expect(recipientOf(envelope('document.uploaded', { ownerId: owner }))).toBe(owner);
    expect(recipientOf(envelope('payment.succeeded', { userId: owner }))).toBe(owner);
  });

  it('names nobody for other events, other versions, or ids that could break out of a channel name', () => {
    expect(recipientOf(envelope('auth.user.registered', { userId: owner }))).toBeUndefined();
    expect(recipientOf(envelope('claim.created', { ownerId: owner }, 2))).toBeUndefined();
    expect(recipientOf(envelope('claim.created', { ownerId: 'x:user:*' }))).toBeUndefined();
    expect(recipientOf(envelope('payment.succeeded', { ownerId: owner }))).toBeUndefined();
  });
});

describe('isDeliverableTenant', () => {
  it('accepts organisations and refuses the platform tenant and separators', () => {
    expect(isDeliverableTenant('vso-north')).toBe(true);
    expect(isDeliverableTenant('_platform')).toBe(false);
    expect(isDeliverableTenant('a:user:b')).toBe(false);
    expect(isDeliverableTenant('t*')).toBe(false);
  });
});

describe('toLiveEvent / parseLiveEvent', () => {
  it('drops tenant and actor and round-trips through JSON', () => {
    const e = envelope('claim.created', { ownerId: owner, title: 'Knee' });
    const live = toLiveEvent(e);
    expect(live).toEqual({ type: 'claim.created', version: 1, id: e.id, occurredAt: e.occurredAt, data: e.data });
    expect(parseLiveEvent(JSON.stringify(live))).toEqual(live);
  });

  it('rejects anything that is not a live event', () => {
    expect(parseLiveEvent('not json')).toBeUndefined();
    expect(parseLiveEvent('null')).toBeUndefined();
    expect(parseLiveEvent('{"type":"x","version":"1","id":"a","occurredAt":"t","data":1}')).toBeUndefined();
    expect(parseLiveEvent('{"type":"x","version":1,"id":"a","occurredAt":"t"}')).toBeUndefined();
  });
});
