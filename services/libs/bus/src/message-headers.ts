import { BusHeaders, type Envelope } from '@rallyforge/contracts';
import { BROKER_DEATH_HEADERS, BUS_MAX_ERROR_LENGTH, BusInternalHeaders } from './bus.constants';
import type { TraceHeaders } from './trace-context';

/** AMQP headers as amqplib hands them over. */
export type MessageHeaders = Record<string, unknown>;

/** The headers every bus message carries (see docs/architecture.md, "Headers"). */
export function buildMessageHeaders(envelope: Envelope, options: { attempt?: number; trace?: TraceHeaders } = {}): MessageHeaders {
  return {
    [BusHeaders.tenantId]: envelope.tenantId,
    [BusHeaders.messageType]: envelope.type,
    [BusHeaders.messageVersion]: envelope.version,
    [BusHeaders.attempt]: options.attempt ?? 1,
    ...options.trace,
  };
}

/** A header as a string, whatever the AMQP encoding; undefined when absent. */
export function readStringHeader(headers: MessageHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  if (value === undefined || value === null) return undefined;
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

/** Delivery attempt of a message (1 for the first delivery); anything unreadable counts as the first. */
export function readAttempt(headers: MessageHeaders | undefined): number {
  const raw = headers?.[BusHeaders.attempt];
  const value = typeof raw === 'number' ? raw : Number(readStringHeader(headers, BusHeaders.attempt));
  return Number.isInteger(value) && value >= 1 ? value : 1;
}

/** A short, single-string description of anything thrown, for headers and logs. */
export function describeError(error: unknown): string {
  let text: string;
  if (error instanceof Error) {
    text = `${error.name}: ${error.message}`;
  } else if (typeof error === 'object' && error !== null && 'message' in error) {
    text = String((error as { message: unknown }).message);
  } else {
    text = String(error);
  }
  return text.length > BUS_MAX_ERROR_LENGTH ? `${text.slice(0, BUS_MAX_ERROR_LENGTH - 1)}…` : text;
}

/** Copy of `headers` for a republish: the broker's dead-letter bookkeeping is dropped, `changes` applied. */
export function republishHeaders(headers: MessageHeaders | undefined, changes: MessageHeaders): MessageHeaders {
  const next: MessageHeaders = { ...headers };
  for (const name of BROKER_DEATH_HEADERS) delete next[name];
  return { ...next, ...changes };
}

/** Headers of a message moved to the parked queue: what failed, where it came from, when and why. */
export function parkedHeaders(
  headers: MessageHeaders | undefined,
  details: { error: string; reason: 'rejected' | 'failed'; originalQueue: string; originalRoutingKey: string; parkedAt: Date },
): MessageHeaders {
  return republishHeaders(headers, {
    [BusHeaders.error]: details.error,
    [BusInternalHeaders.parkReason]: details.reason,
    [BusHeaders.originalQueue]: details.originalQueue,
    [BusHeaders.originalRoutingKey]: details.originalRoutingKey,
    [BusHeaders.parkedAt]: details.parkedAt.toISOString(),
  });
}

/** Headers of a parked message moved back for another try: attempts start again, the error bookkeeping goes. */
export function replayedHeaders(headers: MessageHeaders | undefined, replayedAt: Date): MessageHeaders {
  const next = republishHeaders(headers, { [BusHeaders.attempt]: 1, [BusInternalHeaders.replayedAt]: replayedAt.toISOString() });
  delete next[BusHeaders.error];
  delete next[BusInternalHeaders.parkReason];
  delete next[BusHeaders.parkedAt];
  return next;
}
