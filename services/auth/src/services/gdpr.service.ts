import { Injectable, Logger, StreamableFile } from '@nestjs/common';
import { BusClient, type BusContext } from '@rallyforge/bus';
import { Commands, Events, type Payload } from '@rallyforge/contracts';
import type { AuthUser } from '@rallyforge/service-kit';
import { createHash, randomUUID } from 'node:crypto';
import type { DeleteAccountDto, GdprJobDto } from '../dtos/gdpr.dto';
import { GdprErrors } from '../gdpr.errors';
import { EventRepository } from '../repositories/event.repository';
import { GdprJobRepository, type ErasureAcks, type GdprJob } from '../repositories/gdpr-job.repository';
import { TransactionRepository } from '../repositories/transaction.repository';
import { AuthUserDataRepository, type ExportedRows } from '../repositories/user-data.repository';
import { UserRepository } from '../repositories/user.repository';
import { archiveSafeName, tarGz, type ArchiveEntry } from '../utils/tar-archive';
import { AUTH_SERVICE_ACTOR } from './organisation-lifecycle.service';
import { PasswordHasherService } from './password-hasher.service';

export type UserExportRequested = Payload<typeof Events.userExportRequested>;
export type UserDataErased = Payload<typeof Events.userDataErased>;

/** How long a ready export stays downloadable before its archive is dropped. */
export const GDPR_EXPORT_TTL_MS = 24 * 60 * 60 * 1000;
/** How long auth waits for each service's part of an export. */
export const GDPR_EXPORT_REQUEST_TIMEOUT_MS = 30_000;
/** The services that hold user data besides auth: an erasure is complete once each has confirmed it. */
export const GDPR_ERASING_SERVICES: readonly string[] = ['claims', 'payments', 'documents'];
/** Not an argon2 hash: verification of any password against it fails, so the account cannot log in while it is erased. */
export const ERASURE_PENDING_PASSWORD_HASH = '!erasure-pending';
export const GDPR_API_BASE = '/api/v1/auth/me/export';

export const GdprMessages = {
  exportRequested: 'Started a GDPR export',
  exportReady: 'Assembled a GDPR export',
  exportFailed: 'A GDPR export failed',
  deletionRequested: 'Accepted an account deletion request',
  erasureAcknowledged: 'A service confirmed the erasure of a user',
  deletionCompleted: 'Completed an account deletion',
  refused: (what: string, reason: string) => `Refused ${what}: ${reason}`,
  accountGone: 'the account no longer exists',
} as const;

interface ServiceParts {
  claims: { claims: ExportedRows; evidence: ExportedRows };
  payments: { payments: ExportedRows };
  documents: { documents: Array<Record<string, unknown> & { id: string; filename: string; contentBase64: string | null }> };
}

/**
 * GDPR rights of a user over their own data (docs/gdpr.md), tenant and user always from the verified token:
 * - export: `POST /me/export` records a job and, in the same transaction, `user.export.requested`; auth's own
 *   consumer then collects auth's rows and asks claims, payments and documents over the bus (request/reply) for
 *   theirs, and stores one tar.gz for GDPR_EXPORT_TTL_MS, downloadable by that user only.
 * - deletion: `DELETE /me` (password confirmed) locks the account, revokes its sessions and publishes
 *   `user.deletion.requested`; each service erases or anonymises and answers `user.data.erased`; when all of
 *   GDPR_ERASING_SERVICES have, auth deletes the account last and marks the job completed (the job row is the record).
 */
@Injectable()
export class GdprService {
  private readonly logger = new Logger(GdprService.name);

  constructor(
    private readonly transactions: TransactionRepository,
    private readonly jobs: GdprJobRepository,
    private readonly userData: AuthUserDataRepository,
    private readonly users: UserRepository,
    private readonly events: EventRepository,
    private readonly hasher: PasswordHasherService,
    private readonly bus: BusClient,
  ) {}

  async requestExport(caller: AuthUser): Promise<GdprJobDto> {
    const { tenantId, userId } = caller;
    const job = await this.transactions.inTenant(tenantId, async (m) => {
      if (!(await this.users.findById(m, tenantId, userId))) return undefined;
      await this.jobs.expireArchives(m, tenantId);
      const created = await this.jobs.insert(m, { id: randomUUID(), tenantId, userId, kind: 'export' });
      await this.events.publish(m, Events.userExportRequested, { exportId: created.id, userId }, { tenantId, actor: userActor(caller) });
      return created;
    });
    if (!job) throw GdprErrors.userNotFound();
    this.logger.log({ msg: GdprMessages.exportRequested, tenantId, exportId: job.id });
    return toDto(job);
  }

  async getExport(caller: AuthUser, id: string): Promise<GdprJobDto> {
    const job = await this.transactions.inTenant(caller.tenantId, (m) => this.jobs.findForUser(m, caller.tenantId, caller.userId, id, 'export'));
    if (!job) throw GdprErrors.exportNotFound();
    return toDto(job);
  }

  async downloadExport(caller: AuthUser, id: string): Promise<StreamableFile> {
    const { tenantId, userId } = caller;
    const found = await this.transactions.inTenant(tenantId, async (m) => {
      const job = await this.jobs.findForUser(m, tenantId, userId, id, 'export');
      return job ? { job, archive: await this.jobs.archive(m, tenantId, userId, id) } : undefined;
    });
    if (!found) throw GdprErrors.exportNotFound();
    if (!found.archive) throw GdprErrors.exportNotReady(toDto(found.job).status);
    return new StreamableFile(found.archive, {
      type: 'application/gzip',
      disposition: `attachment; filename="rallyforge-export-${id}.tar.gz"`,
      length: found.archive.length,
    });
  }

  /** `user.export.requested` (auth's own event), in the inbox transaction: assembles the archive or records why not. */
  async runExport(event: UserExportRequested, ctx: BusContext): Promise<void> {
    const tenantId = ctx.tenantId;
    if (ctx.actor?.kind !== 'user' || ctx.actor.id !== event.userId) {
      return this.refuse(ctx, Events.userExportRequested.type, 'the actor is not the user whose data it exports');
    }
    const m = ctx.manager;
    await this.transactions.scopeToTenant(m, tenantId);
    const job = await this.jobs.findForUpdate(m, tenantId, event.exportId);
    if (!job || job.kind !== 'export' || job.userId !== event.userId) {
      return this.refuse(ctx, Events.userExportRequested.type, 'no such export for this user in this tenant');
    }
    if (job.status !== 'pending') return; // redelivered after it was handled
    try {
      const own = await this.userData.exportUser(m, tenantId, event.userId);
      if (!own) {
        await this.jobs.markFailed(m, tenantId, job.id, GdprMessages.accountGone);
        return;
      }
      const parts = await this.collectServiceParts(tenantId, event.userId);
      const archive = tarGz(archiveEntries(job, own, parts));
      const sha256 = createHash('sha256').update(archive).digest('hex');
      await this.jobs.markReady(m, tenantId, job.id, { bytes: archive, sha256, expiresAt: new Date(Date.now() + GDPR_EXPORT_TTL_MS) });
      this.logger.log({ msg: GdprMessages.exportReady, tenantId, exportId: job.id, bytes: archive.length });
    } catch (error) {
      const reason = `Collecting the data failed (${error instanceof Error ? error.message : String(error)}); start a new export`;
      await this.jobs.markFailed(m, tenantId, job.id, reason.slice(0, 1000));
      this.logger.warn({ msg: GdprMessages.exportFailed, tenantId, exportId: job.id, reason });
    }
  }

  /** `DELETE /me`: confirms the password, then locks the account and asks every service to erase the user. */
  async requestDeletion(caller: AuthUser, dto: DeleteAccountDto): Promise<GdprJobDto> {
    const { tenantId, userId } = caller;
    const user = await this.transactions.inTenant(tenantId, (m) => this.users.findById(m, tenantId, userId));
    if (!user) throw GdprErrors.userNotFound();
    if (!(await this.hasher.verify(user.passwordHash, dto.password))) throw GdprErrors.passwordConfirmationFailed();
    const job = await this.transactions.inTenant(tenantId, async (m) => {
      if (!(await this.userData.lockAccount(m, tenantId, userId))) return undefined;
      const pending = await this.jobs.findPendingDeletion(m, tenantId, userId);
      if (pending) return pending;
      const created = await this.jobs.insert(m, { id: randomUUID(), tenantId, userId, kind: 'deletion' });
      await this.userData.revokeSessions(m, tenantId, userId);
      await this.userData.lockPassword(m, tenantId, userId, ERASURE_PENDING_PASSWORD_HASH);
      await this.events.publish(m, Events.userDeletionRequested, { requestId: created.id, userId }, { tenantId, actor: AUTH_SERVICE_ACTOR });
      return created;
    });
    if (!job) throw GdprErrors.userNotFound();
    this.logger.log({ msg: GdprMessages.deletionRequested, tenantId, requestId: job.id });
    return toDto(job);
  }

  /** `user.data.erased` from a service: records it; once every service has confirmed, deletes the account last. */
  async recordErasure(event: UserDataErased, ctx: BusContext): Promise<void> {
    const tenantId = ctx.tenantId;
    if (ctx.actor?.kind !== 'service' || ctx.actor.id !== event.service || !GDPR_ERASING_SERVICES.includes(event.service)) {
      return this.refuse(ctx, Events.userDataErased.type, 'it does not come from the service it names');
    }
    const m = ctx.manager;
    await this.transactions.scopeToTenant(m, tenantId);
    const job = await this.jobs.findForUpdate(m, tenantId, event.requestId);
    if (!job || job.kind !== 'deletion' || job.userId !== event.userId) {
      return this.refuse(ctx, Events.userDataErased.type, 'no such deletion for this user in this tenant');
    }
    if (job.status !== 'pending') return;
    const acks: ErasureAcks = { ...job.acks, [event.service]: { erased: event.erased, anonymised: event.anonymised ?? {}, at: new Date().toISOString() } };
    this.logger.log({ msg: GdprMessages.erasureAcknowledged, tenantId, requestId: job.id, service: event.service });
    if (!GDPR_ERASING_SERVICES.every((service) => acks[service])) {
      await this.jobs.recordAcks(m, tenantId, job.id, acks);
      return;
    }
    const { deleted, retained } = await this.userData.eraseUser(m, tenantId, job.userId);
    acks.auth = { erased: deleted, anonymised: {}, at: new Date().toISOString() };
    await this.jobs.recordAcks(m, tenantId, job.id, acks);
    const note = Object.keys(retained).length ? `Kept (could not delete): ${Object.keys(retained).join(', ')}` : null;
    await this.jobs.markCompleted(m, tenantId, job.id, note);
    this.logger.log({ msg: GdprMessages.deletionCompleted, tenantId, requestId: job.id, retained: Object.keys(retained) });
  }

  private async collectServiceParts(tenantId: string, userId: string): Promise<ServiceParts> {
    const options = { tenantId, actor: AUTH_SERVICE_ACTOR, timeoutMs: GDPR_EXPORT_REQUEST_TIMEOUT_MS };
    const [claims, payments, documents] = await Promise.all([
      this.bus.request<ServiceParts['claims']>(Commands.exportClaimsUserData, { userId }, options),
      this.bus.request<ServiceParts['payments']>(Commands.exportPaymentsUserData, { userId }, options),
      this.bus.request<ServiceParts['documents']>(Commands.exportDocumentsUserData, { userId }, options),
    ]);
    return { claims, payments, documents };
  }

  private refuse(ctx: BusContext, what: string, reason: string): void {
    this.logger.warn({ msg: GdprMessages.refused(what, reason), messageId: ctx.messageId, tenantId: ctx.tenantId });
  }
}

function userActor(caller: AuthUser) {
  return { kind: 'user' as const, id: caller.userId, roles: [...caller.roles] };
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** The archive's layout: one JSON file per kind of record, and the documents' files under documents/files/. */
function archiveEntries(job: GdprJob, own: Record<string, ExportedRows>, parts: ServiceParts): ArchiveEntry[] {
  const entries: ArchiveEntry[] = [];
  for (const [name, rows] of Object.entries(own)) entries.push({ name: `auth/${archiveSafeName(name)}.json`, content: json(rows) });
  entries.push({ name: 'claims/claims.json', content: json(parts.claims.claims) });
  entries.push({ name: 'claims/evidence.json', content: json(parts.claims.evidence) });
  entries.push({ name: 'payments/payments.json', content: json(parts.payments.payments) });
  const documents = parts.documents.documents.map(({ contentBase64, ...metadata }) => {
    const path = contentBase64 === null ? null : `documents/files/${metadata.id}-${archiveSafeName(metadata.filename, 40)}`;
    if (path && contentBase64 !== null) entries.push({ name: path, content: Buffer.from(contentBase64, 'base64') });
    return { ...metadata, archivePath: path };
  });
  entries.push({ name: 'documents/documents.json', content: json(documents) });
  const readme = [
    'RallyForge: export of your personal data',
    `Export ${job.id}, requested ${job.createdAt.toISOString()}, assembled ${new Date().toISOString()}.`,
    `Organisation: ${job.tenantId}; account: ${job.userId}.`,
    '',
    'auth/       your account, organisation, sessions (refresh tokens, secrets left out) and every other record auth keeps about you',
    'claims/     your claims and the evidence attached to them',
    'payments/   your payments',
    'documents/  your documents: documents.json lists them, files/ holds their contents',
    '',
    'Secrets (password and token hashes, keys) are listed as "[secret: not exported]". See docs/gdpr.md.',
    '',
  ].join('\n');
  return [{ name: 'README.txt', content: readme }, ...entries];
}

export function toDto(job: GdprJob, now: Date = new Date()): GdprJobDto {
  const expired = job.status === 'expired' || (job.status === 'ready' && job.expiresAt !== null && job.expiresAt <= now);
  const status = expired ? 'expired' : job.status;
  return {
    id: job.id,
    kind: job.kind,
    status,
    createdAt: job.createdAt.toISOString(),
    completedAt: job.completedAt?.toISOString() ?? null,
    expiresAt: job.expiresAt?.toISOString() ?? null,
    sizeBytes: status === 'ready' ? job.archiveBytes : null,
    sha256: status === 'ready' ? job.archiveSha256 : null,
    downloadUrl: status === 'ready' ? `${GDPR_API_BASE}/${job.id}/archive` : null,
    error: job.error,
  };
}
