import { z } from 'zod';
import { auditEntrySchema } from './audit';

/**
 * Every message RallyForge sends, in one place: its routing key (= type), version and payload schema.
 * Producers and consumers both import from here (backstage's `*-common` idea). A breaking change to a
 * payload adds a new version instead of editing the old one.
 */
export interface MessageContract<TSchema extends z.ZodTypeAny = z.ZodTypeAny> {
  readonly type: string;
  readonly version: number;
  readonly kind: 'event' | 'command';
  readonly schema: TSchema;
}

function contract<TSchema extends z.ZodTypeAny>(
  type: string,
  version: number,
  kind: 'event' | 'command',
  schema: TSchema,
): MessageContract<TSchema> {
  return { type, version, kind, schema };
}

const uuid = z.string().uuid();

export const Events = {
  /** Any service → auth: a sensitive action happened (or was refused); auth appends it to the audit log. */
  auditRecorded: contract('audit.recorded', 1, 'event', auditEntrySchema),
  userRegistered: contract(
    'auth.user.registered',
    1,
    'event',
    z.object({ userId: uuid, email: z.string().email(), role: z.string() }),
  ),
  claimCreated: contract(
    'claim.created',
    1,
    'event',
    z.object({ claimId: uuid, ownerId: uuid, title: z.string(), type: z.string(), status: z.string() }),
  ),
  claimEvidenceAdded: contract(
    'claim.evidence_added',
    1,
    'event',
    z.object({ claimId: uuid, ownerId: uuid, documentId: uuid, filename: z.string(), evidenceCount: z.number().int() }),
  ),
  documentUploaded: contract(
    'document.uploaded',
    1,
    'event',
    z.object({
      documentId: uuid,
      claimId: uuid,
      ownerId: uuid,
      filename: z.string(),
      contentType: z.string(),
      sizeBytes: z.number().int().nonnegative(),
      sha256: z.string(),
    }),
  ),
  paymentSucceeded: contract(
    'payment.succeeded',
    1,
    'event',
    z.object({
      paymentId: uuid,
      userId: uuid,
      planId: z.string(),
      amountCents: z.number().int().nonnegative(),
      currency: z.string().length(3),
      periodEnd: z.string().datetime(),
    }),
  ),
  /**
   * auth → every service: the organisation was deprovisioned with `mode: 'delete'`; purge its rows and stored files
   * (idempotently). The envelope's tenant is the deleted organisation.
   */
  organisationDeleted: contract('organisation.deleted', 1, 'event', z.object({ tenantId: z.string().min(1).max(40) })),
  /** auth → auth: a user asked for an export of their data (`POST /me/export`); the job runs off the HTTP path. */
  userExportRequested: contract('user.export.requested', 1, 'event', z.object({ exportId: uuid, userId: uuid })),
  /** auth → claims, payments, documents: erase (or anonymise) this user's data, then answer with `user.data.erased`. */
  userDeletionRequested: contract('user.deletion.requested', 1, 'event', z.object({ requestId: uuid, userId: uuid })),
  /** A service → auth: it erased or anonymised what it held about the user (counts per kind of record). */
  userDataErased: contract(
    'user.data.erased',
    1,
    'event',
    z.object({
      requestId: uuid,
      userId: uuid,
      service: z.string().min(1).max(40),
      erased: z.record(z.number().int().nonnegative()),
      anonymised: z.record(z.number().int().nonnegative()).default({}),
    }),
  ),
  /**
   * auth → auth: send one transactional e-mail over SMTP (written to the outbox in the transaction that created the
   * token). `sealedToken` is the single-use token encrypted with auth's key, so the outbox, the broker and parked
   * messages never hold a usable token; only auth's mail consumer opens it.
   */
  emailRequested: contract(
    'auth.email.requested',
    1,
    'event',
    z.object({
      template: z.enum(['email_verification', 'password_reset', 'invitation']),
      to: z.string().email().max(320),
      sealedToken: z.string().min(1).max(1000),
      expiresAt: z.string().datetime(),
      /** Invitations: the role offered. */
      role: z.string().max(32).optional(),
    }),
  ),
  /**
   * auth → auth: someone asked to reset the password of (envelope tenant, e-mail). Handled off the HTTP path, so the
   * request answers the same, in the same time, whether or not the account exists.
   */
  passwordResetRequested: contract(
    'auth.password_reset.requested',
    1,
    'event',
    z.object({ email: z.string().email().max(320) }),
  ),
} as const;

export const Commands = {
  /** Operator → auth (request/reply): create or update an organisation and invite its first admins. */
  upsertOrganisation: contract(
    'auth.organisation.upsert',
    1,
    'command',
    z.object({
      tenantId: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(40),
      displayName: z.string().min(1).max(200),
      registration: z.enum(['open', 'invite']),
      admins: z.array(z.string().email()).max(50),
      suspended: z.boolean().default(false),
      /** The tenant's application limits (from its spec.quota); auth stores them and publishes them to Redis. */
      limits: z
        .object({
          apiRequestsPerMinute: z.number().int().min(1).max(1_000_000).optional(),
          users: z.number().int().min(0).optional(),
          documentStorageBytes: z.number().int().min(0).optional(),
        })
        .strict()
        .optional(),
    }),
  ),
  /**
   * Operator → auth (request/reply): take an organisation out of service. `retain` locks it (suspended, logins
   * refused, refresh tokens revoked, data kept); `delete` removes its accounts and publishes `organisation.deleted`.
   */
  deprovisionOrganisation: contract(
    'auth.organisation.deprovision',
    1,
    'command',
    z.object({
      tenantId: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(40),
      mode: z.enum(['retain', 'delete']),
    }),
  ),
  /** auth → claims (request/reply, GDPR export): everything claims holds about the user. */
  exportClaimsUserData: contract('claims.user-data.export', 1, 'command', z.object({ userId: uuid })),
  /** auth → payments (request/reply, GDPR export): the user's payments. */
  exportPaymentsUserData: contract('payments.user-data.export', 1, 'command', z.object({ userId: uuid })),
  /** auth → documents (request/reply, GDPR export): the user's documents, metadata and contents. */
  exportDocumentsUserData: contract('documents.user-data.export', 1, 'command', z.object({ userId: uuid })),
} as const;

export type Payload<C extends MessageContract> = z.infer<C['schema']>;

/** Reply body for request/reply commands. */
export type CommandReply<T> = { ok: true; data: T } | { ok: false; code: string; message: string };

const all: MessageContract[] = [...Object.values(Events), ...Object.values(Commands)];

/** Looks a contract up by routing key; undefined for unknown types (the consumer parks those). */
export function findContract(type: string, version: number): MessageContract | undefined {
  return all.find((c) => c.type === type && c.version === version);
}
