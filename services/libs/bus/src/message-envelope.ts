import { randomUUID } from 'node:crypto';
import {
  BusHeaders,
  Commands,
  Events,
  envelopeSchema,
  findContract,
  type Actor,
  type Envelope,
  type MessageContract,
  type Payload,
} from '@rallyforge/contracts';
import type { Options } from 'amqplib';
import { BUS_CONTENT_TYPE, BUS_EXCHANGE } from './bus.constants';
import { BusValidationError } from './bus.errors';
import { BusMessages } from './bus.messages';
import { buildMessageHeaders, readStringHeader, type MessageHeaders } from './message-headers';
import type { TraceHeaders } from './trace-context';

/** Who and for which tenant a message is sent. */
export interface SendOptions {
  /** Organisation the message belongs to (`PLATFORM_TENANT` for platform-level messages). */
  readonly tenantId: string;
  readonly actor?: Actor;
  /** Message id; a fresh UUID by default. Pass one to make a retried publish idempotent for consumers. */
  readonly messageId?: string;
  /** When the fact happened; now by default. */
  readonly occurredAt?: Date;
}

/** A message ready for `publish`: where it goes and what it carries. */
export interface OutgoingMessage {
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
  readonly options: Options.Publish & { messageId: string };
}

/** Builds the envelope of `payload` and validates it against its contract; throws `BusValidationError` otherwise. */
export function createEnvelope<C extends MessageContract>(contract: C, payload: Payload<C>, options: SendOptions): Envelope<Payload<C>> {
  const parsed = contract.schema.safeParse(payload);
  if (!parsed.success) {
    throw new BusValidationError(BusMessages.invalidPayload(contract.type, contract.version, formatIssues(parsed.error)));
  }
  const envelope: Envelope<Payload<C>> = {
    id: options.messageId ?? randomUUID(),
    type: contract.type,
    version: contract.version,
    tenantId: options.tenantId,
    occurredAt: (options.occurredAt ?? new Date()).toISOString(),
    ...(options.actor ? { actor: options.actor } : {}),
    data: parsed.data as Payload<C>,
  };
  const checked = envelopeSchema.safeParse(envelope);
  if (!checked.success) {
    throw new BusValidationError(BusMessages.invalidPayload(contract.type, contract.version, formatIssues(checked.error)));
  }
  return envelope;
}

/** The contract with the highest version for `type` (Nest `emit('claim.created', …)` names no version). */
export function findLatestContract(type: string): MessageContract | undefined {
  let latest: MessageContract | undefined;
  for (const contract of [...Object.values(Events), ...Object.values(Commands)] as MessageContract[]) {
    if (contract.type === type && (!latest || contract.version > latest.version)) latest = contract;
  }
  return latest;
}

/** Looks a contract up for publishing; throws an actionable error when there is none. */
export function requireContract(type: string, version?: number): MessageContract {
  const contract = version === undefined ? findLatestContract(type) : findContract(type, version);
  if (!contract) throw new BusValidationError(BusMessages.unknownContract(type, version));
  return contract;
}

/** The AMQP message of an envelope: topic exchange, routing key = type, persistent, with the bus headers. */
export function toOutgoingMessage(envelope: Envelope, options: { trace?: TraceHeaders; attempt?: number; appId?: string } = {}): OutgoingMessage {
  return {
    exchange: BUS_EXCHANGE,
    routingKey: envelope.type,
    content: Buffer.from(JSON.stringify(envelope)),
    options: {
      persistent: true,
      contentType: BUS_CONTENT_TYPE,
      messageId: envelope.id,
      type: envelope.type,
      timestamp: Math.floor(Date.now() / 1000),
      ...(options.appId ? { appId: options.appId } : {}),
      headers: buildMessageHeaders(envelope, { attempt: options.attempt, trace: options.trace }),
    },
  };
}

export type DecodedMessage =
  | { readonly ok: true; readonly envelope: Envelope; readonly contract: MessageContract }
  | { readonly ok: false; readonly reason: string; readonly envelope?: Envelope };

/**
 * Checks an incoming message before any handler sees it: JSON body, envelope shape, a known contract for
 * type@version, the tenant header equal to the envelope's tenant, and the payload against the contract.
 * `envelope.data` of a valid message is the schema's parsed output (defaults applied).
 * Any failure is final: retrying cannot make an invalid message valid, so the consumer parks it at once.
 */
export function decodeMessage(content: Buffer, headers: MessageHeaders | undefined): DecodedMessage {
  let body: unknown;
  try {
    body = JSON.parse(content.toString('utf8'));
  } catch {
    return { ok: false, reason: 'Body is not JSON' };
  }
  const parsed = envelopeSchema.safeParse(body);
  if (!parsed.success) return { ok: false, reason: `Envelope is invalid: ${formatIssues(parsed.error)}` };
  const envelope = parsed.data as Envelope;

  const contract = findContract(envelope.type, envelope.version);
  if (!contract) return { ok: false, envelope, reason: `Unknown message type ${envelope.type}@${envelope.version}` };

  const headerTenant = readStringHeader(headers, BusHeaders.tenantId);
  if (headerTenant === undefined) return { ok: false, envelope, reason: `Header ${BusHeaders.tenantId} is missing` };
  if (headerTenant !== envelope.tenantId) {
    return { ok: false, envelope, reason: `Header ${BusHeaders.tenantId} "${headerTenant}" does not match envelope tenant "${envelope.tenantId}"` };
  }
  const headerType = readStringHeader(headers, BusHeaders.messageType);
  if (headerType !== undefined && headerType !== envelope.type) {
    return { ok: false, envelope, reason: `Header ${BusHeaders.messageType} "${headerType}" does not match envelope type "${envelope.type}"` };
  }
  const headerVersion = readStringHeader(headers, BusHeaders.messageVersion);
  if (headerVersion !== undefined && Number(headerVersion) !== envelope.version) {
    return { ok: false, envelope, reason: `Header ${BusHeaders.messageVersion} "${headerVersion}" does not match envelope version ${envelope.version}` };
  }

  const payload = contract.schema.safeParse(envelope.data);
  if (!payload.success) {
    return { ok: false, envelope, reason: BusMessages.invalidPayload(envelope.type, envelope.version, formatIssues(payload.error)) };
  }
  return { ok: true, contract, envelope: { ...envelope, data: payload.data } };
}

/** One line per schema issue (structural type, so the bus needs no direct zod dependency). */
export function formatIssues(error: { issues: ReadonlyArray<{ path: ReadonlyArray<string | number>; message: string }> }): string {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`).join('; ');
}
