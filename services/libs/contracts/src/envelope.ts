import { z } from 'zod';

/** AMQP header names used on every RallyForge message. Constants, so producer and consumer never drift. */
export const BusHeaders = {
  tenantId: 'x-rf-tenant-id',
  messageType: 'x-rf-message-type',
  messageVersion: 'x-rf-message-version',
  attempt: 'x-rf-attempt',
  error: 'x-rf-error',
  originalRoutingKey: 'x-rf-original-routing-key',
  originalQueue: 'x-rf-original-queue',
  parkedAt: 'x-rf-parked-at',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
} as const;

/** The tenant id of platform-level messages that belong to no single organisation (e.g. operator → auth). */
export const PLATFORM_TENANT = '_platform';

/** Who caused a message: carried so that consumers can authorise bus calls as they authorise HTTP calls. */
export const actorSchema = z.object({
  kind: z.enum(['user', 'service']),
  id: z.string().min(1),
  roles: z.array(z.string()).default([]),
});
export type Actor = z.infer<typeof actorSchema>;

/**
 * The body of every message on the bus. `data` is validated against the contract of `type`@`version`
 * by the consumer before any handler runs.
 */
export const envelopeSchema = z.object({
  id: z.string().uuid(),
  type: z.string().min(1),
  version: z.number().int().positive(),
  tenantId: z.string().min(1),
  occurredAt: z.string().datetime(),
  actor: actorSchema.optional(),
  data: z.unknown(),
});
export type Envelope<T = unknown> = Omit<z.infer<typeof envelopeSchema>, 'data'> & { data: T };
