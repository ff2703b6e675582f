import { Inject, Injectable, Logger } from '@nestjs/common';
import { OutboxPublisher, type BusContext } from '@rallyforge/bus';
import { Events, type Commands, type CommandReply, type Payload, isServiceActor } from '@rallyforge/contracts';
import type { Readable } from 'node:stream';
import { DOCUMENTS_SERVICE_NAME } from '../documents.constants';
import { DocumentsUserDataRepository } from '../repositories/user-data.repository';
import { STORAGE_DRIVER, StorageObjectNotFoundError, type StorageDriver } from '../repositories/storage.driver';

export type OrganisationDeleted = Payload<typeof Events.organisationDeleted>;
export type UserDeletionRequested = Payload<typeof Events.userDeletionRequested>;
export type ExportDocumentsUserData = Payload<typeof Commands.exportDocumentsUserData>;

export interface ExportedDocument {
  id: string;
  claimId: string;
  filename: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  createdAt: string;
  /** The stored bytes in base64; null when they are missing or over the export's size budget (see `contentNote`). */
  contentBase64: string | null;
  contentNote?: string;
}
export interface DocumentsUserDataExport {
  documents: ExportedDocument[];
}

/**
 * The bytes one export reply may carry (before base64). A reply is one AMQP message (RabbitMQ's default ceiling is
 * 128 MiB); documents past the budget are listed with their metadata and a note, and stay downloadable one by one.
 */
export const EXPORT_CONTENT_BUDGET_BYTES = 48 * 1024 * 1024;

/** Only auth speaks for a user's data or an organisation's lifecycle (the envelope's actor, checked first). */
export const AUTH_ACTOR_ID = 'auth';

export const UserDataMessages = {
  refused: (what: string, reason: string) => `Refused ${what}: ${reason}`,
  notFromAuth: 'only the auth service may send it',
  tenantMismatch: 'the envelope is for another tenant than the organisation it names',
  purged: 'Purged a deleted organisation (rows and stored files)',
  erased: "Erased a user's documents (rows and stored files)",
  contentMissing: 'The stored file is missing',
  overBudget: `Left out of the archive: the export carries at most ${EXPORT_CONTENT_BUDGET_BYTES / 1024 / 1024} MiB of file contents; download it with GET /api/v1/documents/{id}/content`,
} as const;

/**
 * GDPR and organisation lifecycle on the documents side, over the bus in the handler's inbox transaction: export a
 * user's documents with their contents (request/reply), erase them (`user.deletion.requested` → files deleted, rows
 * deleted, `user.data.erased` in the same transaction), and purge a deleted organisation's rows and files. Files go
 * first: should the transaction then fail, the redelivery finds the rows again and deleting a missing file is fine.
 */
@Injectable()
export class DocumentsUserDataService {
  private readonly logger = new Logger(DocumentsUserDataService.name);

  constructor(
    private readonly data: DocumentsUserDataRepository,
    private readonly outbox: OutboxPublisher,
    @Inject(STORAGE_DRIVER) private readonly storage: StorageDriver,
  ) {}

  async export(command: ExportDocumentsUserData, ctx: BusContext): Promise<CommandReply<DocumentsUserDataExport>> {
    if (!fromAuth(ctx)) return { ok: false, code: 'FORBIDDEN', message: UserDataMessages.notFromAuth };
    const rows = await this.data.listUser(ctx.manager, ctx.tenantId, command.userId);
    let budget = EXPORT_CONTENT_BUDGET_BYTES;
    const documents: ExportedDocument[] = [];
    for (const { storageKey, ...metadata } of rows) {
      if (metadata.sizeBytes > budget) {
        documents.push({ ...metadata, contentBase64: null, contentNote: UserDataMessages.overBudget });
        continue;
      }
      try {
        const bytes = await readAll(await this.storage.get(storageKey));
        budget -= bytes.length;
        documents.push({ ...metadata, contentBase64: bytes.toString('base64') });
      } catch (error) {
        if (!(error instanceof StorageObjectNotFoundError)) throw error;
        documents.push({ ...metadata, contentBase64: null, contentNote: UserDataMessages.contentMissing });
      }
    }
    return { ok: true, data: { documents } };
  }

  async erase(event: UserDeletionRequested, ctx: BusContext): Promise<void> {
    if (!fromAuth(ctx)) return this.refuse(ctx, Events.userDeletionRequested.type, UserDataMessages.notFromAuth);
    const rows = await this.data.listUser(ctx.manager, ctx.tenantId, event.userId);
    for (const row of rows) await this.storage.delete(row.storageKey);
    const documents = await this.data.deleteUser(ctx.manager, ctx.tenantId, event.userId);
    await this.outbox.publish(
      ctx.manager,
      Events.userDataErased,
      { requestId: event.requestId, userId: event.userId, service: DOCUMENTS_SERVICE_NAME, erased: { documents, files: rows.length }, anonymised: {} },
      { tenantId: ctx.tenantId, actor: { kind: 'service', id: DOCUMENTS_SERVICE_NAME, roles: [] } },
    );
    this.logger.log({ msg: UserDataMessages.erased, tenantId: ctx.tenantId, requestId: event.requestId, documents });
  }

  async purgeOrganisation(event: OrganisationDeleted, ctx: BusContext): Promise<void> {
    if (!fromAuth(ctx)) return this.refuse(ctx, Events.organisationDeleted.type, UserDataMessages.notFromAuth);
    if (event.tenantId !== ctx.tenantId) return this.refuse(ctx, Events.organisationDeleted.type, UserDataMessages.tenantMismatch);
    const keys = await this.data.tenantStorageKeys(ctx.manager, ctx.tenantId);
    for (const key of keys) await this.storage.delete(key);
    const deleted = await this.data.purgeTenant(ctx.manager, ctx.tenantId);
    this.logger.log({ msg: UserDataMessages.purged, tenantId: ctx.tenantId, deleted, files: keys.length });
  }

  /** Logged and acknowledged: retrying cannot make a forged message valid. */
  private refuse(ctx: BusContext, what: string, reason: string): void {
    this.logger.warn({ msg: UserDataMessages.refused(what, reason), messageId: ctx.messageId, tenantId: ctx.tenantId, actor: ctx.actor?.id });
  }
}

const fromAuth = (ctx: BusContext): boolean => isServiceActor(ctx.actor, AUTH_ACTOR_ID);

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}
