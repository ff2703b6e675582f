import { Events, PLATFORM_TENANT, type Envelope, type MessageContract } from '@rallyforge/contracts';
import { CHANNEL_ID_PATTERN } from '../realtime.constants';

/** What a socket receives: the envelope without tenant and actor (the socket's own tenant and user). */
export interface LiveEvent {
  type: string;
  version: number;
  id: string;
  occurredAt: string;
  data: unknown;
}

/**
 * The events pushed to users, and which payload field names the user to notify. Adding an event here (and a
 * handler in RealtimeEventsController) is all it takes to forward it.
 */
export const FORWARDED_EVENTS: ReadonlyArray<{ contract: MessageContract; recipientField: string }> = [
  { contract: Events.claimCreated, recipientField: 'ownerId' },
  { contract: Events.claimEvidenceAdded, recipientField: 'ownerId' },
  { contract: Events.documentUploaded, recipientField: 'ownerId' },
  { contract: Events.paymentSucceeded, recipientField: 'userId' },
];

/** The user an event is for, or undefined when the event is not forwarded or names nobody usable. */
export function recipientOf(envelope: Envelope): string | undefined {
  const entry = FORWARDED_EVENTS.find((e) => e.contract.type === envelope.type && e.contract.version === envelope.version);
  if (!entry || typeof envelope.data !== 'object' || envelope.data === null) return undefined;
  const userId = (envelope.data as Record<string, unknown>)[entry.recipientField];
  return typeof userId === 'string' && CHANNEL_ID_PATTERN.test(userId) ? userId : undefined;
}

/** True when `tenantId` can name a Redis channel: a real organisation, not the platform, no separators. */
export function isDeliverableTenant(tenantId: string): boolean {
  return tenantId !== PLATFORM_TENANT && CHANNEL_ID_PATTERN.test(tenantId);
}

export function toLiveEvent(envelope: Envelope): LiveEvent {
  return { type: envelope.type, version: envelope.version, id: envelope.id, occurredAt: envelope.occurredAt, data: envelope.data };
}

/** Parses a Redis message back into a LiveEvent; undefined for anything malformed (never trust the wire). */
export function parseLiveEvent(raw: string): LiveEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.type !== 'string' || typeof v.version !== 'number' || typeof v.id !== 'string' || typeof v.occurredAt !== 'string' || !('data' in v)) {
    return undefined;
  }
  return { type: v.type, version: v.version, id: v.id, occurredAt: v.occurredAt, data: v.data };
}
