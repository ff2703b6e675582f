import { z } from 'zod';

/**
 * The audit log's entry, as services send it to auth (`audit.recorded`) and as auth stores it. Who (actor), what
 * (action, target), when (the envelope's occurredAt), where from (ip, user agent) and the result. `details` is
 * for a few non-personal facts (`{ from: 'submitted', to: 'in_review' }`): never secrets, tokens, passwords or
 * document contents; keys that look like secrets are refused.
 */
export const AUDIT_RESULTS = ['success', 'failure', 'denied'] as const;
export type AuditResult = (typeof AUDIT_RESULTS)[number];

export const AUDIT_ACTION_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
export const AUDIT_DETAILS_MAX_KEYS = 16;
export const AUDIT_DETAIL_MAX_LENGTH = 200;
/** Detail keys that could carry a secret; an entry naming one is refused outright. */
export const AUDIT_FORBIDDEN_DETAIL_KEY = /pass(word)?|secret|token|authori[sz]ation|cookie|otp|totp|recovery|private|credential/i;

const detailValue = z.union([z.string().max(AUDIT_DETAIL_MAX_LENGTH), z.number(), z.boolean(), z.null()]);

export const auditActorSchema = z.object({
  kind: z.enum(['user', 'service']),
  /** A user id, or a service name (`claims`, `operator`). */
  id: z.string().min(1).max(100),
});
export type AuditActor = z.infer<typeof auditActorSchema>;

export const auditEntrySchema = z.object({
  /** `<resource>.<verb>` in lower snake case: `claim.status_changed`, `auth.login`, `access.denied`. */
  action: z.string().max(80).regex(AUDIT_ACTION_PATTERN, 'use <resource>.<verb> in lower snake case, e.g. claim.status_changed'),
  actor: auditActorSchema,
  target: z.object({ type: z.string().min(1).max(40), id: z.string().min(1).max(100) }).optional(),
  result: z.enum(AUDIT_RESULTS),
  ip: z.string().max(64).optional(),
  userAgent: z.string().max(300).optional(),
  requestId: z.string().max(128).optional(),
  details: z
    .record(detailValue)
    .refine((details) => Object.keys(details).length <= AUDIT_DETAILS_MAX_KEYS, `at most ${AUDIT_DETAILS_MAX_KEYS} details`)
    .refine(
      (details) => !Object.keys(details).some((key) => AUDIT_FORBIDDEN_DETAIL_KEY.test(key)),
      'details must not carry secrets (password, token, secret, authorization... keys are refused)',
    )
    .optional(),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

/** Audit actions the services record (others may be added; the pattern is what is enforced). */
export const AuditAction = {
  claimCreated: 'claim.created',
  claimStatusChanged: 'claim.status_changed',
  documentUploaded: 'document.uploaded',
  documentDownloaded: 'document.downloaded',
  documentDeleted: 'document.deleted',
  paymentCreated: 'payment.created',
  paymentRefunded: 'payment.refunded',
  accessDenied: 'access.denied',
  organisationUpserted: 'organisation.upserted',
  auditRead: 'audit.read',
} as const;
