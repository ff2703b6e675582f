import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream';
import { Inject, Injectable, Logger, StreamableFile } from '@nestjs/common';
import type { MultipartFile } from '@fastify/multipart';
import { dataScopeOf, AuditAction } from '@rallyforge/contracts';
import { AppError, AuditTrail, InjectConfig, TenantLimitsReader, type AuthUser } from '@rallyforge/service-kit';
import type { DocumentsConfig } from '../config';
import { ContentSniffer, ContentTooLargeError, UnsupportedContentError } from '../content/content-sniffer';
import { attachmentDisposition, sanitizeFilename } from '../content/filename';
import { DocumentsErrorCode, UPLOAD_CLAIM_ID_FIELD, UPLOAD_FILE_FIELD } from '../documents.constants';
import { DocumentsMessages } from '../documents.messages';
import type { DocumentDto, UploadForm } from '../dtos/document.dto';
import { DocumentsRepository, type DocumentRecord, type DocumentScope } from '../repositories/documents.repository';
import { STORAGE_DRIVER, StorageObjectNotFoundError, type StorageDriver } from '../repositories/storage.driver';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A file that reached storage and still needs its metadata row. */
interface StoredUpload {
  key: string;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
}

export const documentNotFound = (): AppError =>
  new AppError(404, DocumentsErrorCode.DOCUMENT_NOT_FOUND, DocumentsMessages.documentNotFound);

/** Which documents a caller may read: their organisation's, and only their own unless they have an organisation role. */
export function documentScopeFor(user: AuthUser): DocumentScope {
  return dataScopeOf(user.roles) === 'organisation'
    ? { tenantId: user.tenantId }
    : { tenantId: user.tenantId, ownerId: user.userId };
}

/**
 * Uploading and reading evidence documents.
 *
 * Claims are owned by the claims service, in another database: this service cannot (and does not call over the
 * network to) check that `claimId` is one of the uploader's claims. It stores the document for the uploader and
 * publishes `document.uploaded`; the claims service checks tenant and ownership when it consumes the event and
 * attaches the evidence only to the uploader's own claim (anything else is refused there). A document whose
 * claim was refused stays readable by its uploader only. Decision: keep the upload path independent of the
 * claims service's availability instead of a synchronous cross-service check.
 */
@Injectable()
export class DocumentsService {
  private readonly logger = new Logger(DocumentsService.name);

  constructor(
    private readonly documents: DocumentsRepository,
    @Inject(STORAGE_DRIVER) private readonly storage: StorageDriver,
    @InjectConfig() private readonly config: DocumentsConfig,
    private readonly tenantLimits: TenantLimitsReader,
    private readonly audit: AuditTrail,
  ) {}

  /**
   * Streams the uploaded file through type sniffing and the size limit into storage, then records the metadata
   * and `document.uploaded` in one transaction. Whatever fails after the file reached storage deletes it again.
   */
  async upload(user: AuthUser, form: UploadForm): Promise<DocumentDto> {
    // Any authenticated member of the organisation may upload their own evidence (owner = caller, tenant = token).
    let claimId: string | undefined;
    let stored: StoredUpload | undefined;
    try {
      for await (const part of form) {
        if (part.type === 'field') {
          if (part.fieldname !== UPLOAD_CLAIM_ID_FIELD || claimId !== undefined) throw invalid(DocumentsMessages.unexpectedField(part.fieldname));
          claimId = parseClaimId(part.value);
        } else if (part.fieldname !== UPLOAD_FILE_FIELD || stored !== undefined) {
          part.file.resume();
          throw invalid(DocumentsMessages.unexpectedField(part.fieldname));
        } else {
          stored = await this.store(user.tenantId, part);
        }
      }
      if (!stored) throw invalid(DocumentsMessages.fileMissing);
      if (!claimId) throw invalid(DocumentsMessages.claimIdInvalid);
    } catch (error) {
      if (stored) await this.discard(stored.key);
      throw toUploadError(error, this.config.UPLOAD_MAX_BYTES);
    }

    try {
      const { documentStorageBytes } = await this.tenantLimits.read(user.tenantId);
      const document = await this.documents.create(
        {
          id: randomUUID(),
          tenantId: user.tenantId,
          ownerId: user.userId,
          claimId,
          filename: stored.filename,
          contentType: stored.contentType,
          sizeBytes: stored.size,
          sha256: stored.sha256,
          storageKey: stored.key,
        },
        { kind: 'user', id: user.userId, roles: [...user.roles] },
        { storageLimitBytes: documentStorageBytes },
      );
      if (!document) {
        throw new AppError(413, DocumentsErrorCode.STORAGE_QUOTA_EXCEEDED, DocumentsMessages.storageQuotaExceeded(documentStorageBytes!));
      }
      this.logger.log({ documentId: document.id, claimId, sizeBytes: document.sizeBytes, contentType: document.contentType }, DocumentsMessages.documentStored);
      return toDocumentDto(document);
    } catch (error) {
      await this.discard(stored.key);
      throw error;
    }
  }

  /** Metadata of a document the caller may read. */
  async get(user: AuthUser, id: string): Promise<DocumentDto> {
    const document = await this.findReadable(user, id);
    return toDocumentDto(document);
  }

  /** The content of a document the caller may read, as an attachment of its sniffed type. */
  async openContent(user: AuthUser, id: string): Promise<StreamableFile> {
    const document = await this.findReadable(user, id);
    await this.audit.recordNow({
      tenantId: user.tenantId,
      actor: user,
      action: AuditAction.documentDownloaded,
      target: { type: 'document', id: document.id },
      result: 'success',
    });
    let stream;
    try {
      stream = await this.storage.get(document.storageKey);
    } catch (error) {
      if (error instanceof StorageObjectNotFoundError) {
        this.logger.error({ documentId: document.id }, DocumentsMessages.contentMissing);
        throw new AppError(404, DocumentsErrorCode.DOCUMENT_CONTENT_MISSING, DocumentsMessages.contentMissing);
      }
      throw error;
    }
    return new StreamableFile(stream, {
      type: document.contentType,
      disposition: attachmentDisposition(document.filename),
      length: document.sizeBytes,
    });
  }

  private async findReadable(user: AuthUser, id: string): Promise<DocumentRecord> {
    const document = await this.documents.findById(documentScopeFor(user), id);
    if (!document) throw documentNotFound();
    return document;
  }

  private async store(tenantId: string, part: MultipartFile): Promise<StoredUpload> {
    const key = `${tenantId}/${randomUUID()}`;
    const sniffer = new ContentSniffer({ maxBytes: this.config.UPLOAD_MAX_BYTES });
    // pipeline (not pipe) so an aborted upload (busboy error) also fails the storage write.
    const content = pipeline(part.file, sniffer, () => undefined);
    const { size, sha256 } = await this.storage.put(key, content);
    return { key, filename: sanitizeFilename(part.filename), contentType: sniffer.contentType!, size, sha256 };
  }

  private async discard(key: string): Promise<void> {
    try {
      await this.storage.delete(key);
    } catch (error) {
      this.logger.error({ err: error, storageKey: key }, DocumentsMessages.storedFileCleanupFailed);
    }
  }
}

export function toDocumentDto(document: DocumentRecord): DocumentDto {
  return {
    id: document.id,
    claimId: document.claimId,
    ownerId: document.ownerId,
    filename: document.filename,
    contentType: document.contentType,
    sizeBytes: document.sizeBytes,
    sha256: document.sha256,
    createdAt: document.createdAt.toISOString(),
  };
}

function parseClaimId(value: unknown): string {
  if (typeof value !== 'string' || !UUID.test(value.trim())) throw invalid(DocumentsMessages.claimIdInvalid);
  return value.trim().toLowerCase();
}

function invalid(message: string): AppError {
  return new AppError(400, DocumentsErrorCode.VALIDATION_FAILED, message);
}

/** Fastify multipart errors carry these codes; busboy's own errors only a message mentioning multipart. */
const MULTIPART_LIMIT_CODES = new Set(['FST_FILES_LIMIT', 'FST_PARTS_LIMIT', 'FST_FIELDS_LIMIT']);

/** Maps what can go wrong while reading an upload to the error the client gets. */
export function toUploadError(error: unknown, maxBytes: number): unknown {
  if (error instanceof AppError) return error;
  if (error instanceof ContentTooLargeError) {
    return new AppError(413, DocumentsErrorCode.PAYLOAD_TOO_LARGE, DocumentsMessages.tooLarge(maxBytes));
  }
  if (error instanceof UnsupportedContentError) {
    return new AppError(415, DocumentsErrorCode.UNSUPPORTED_MEDIA_TYPE, DocumentsMessages.unsupportedType);
  }
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'FST_REQ_FILE_TOO_LARGE') {
    return new AppError(413, DocumentsErrorCode.PAYLOAD_TOO_LARGE, DocumentsMessages.tooLarge(maxBytes));
  }
  if (typeof code === 'string' && MULTIPART_LIMIT_CODES.has(code)) {
    return new AppError(413, DocumentsErrorCode.PAYLOAD_TOO_LARGE, DocumentsMessages.tooManyParts);
  }
  if (code === 'FST_PROTO_VIOLATION' || code === 'FST_INVALID_JSON_FIELD_ERROR') {
    return invalid(DocumentsMessages.malformedMultipart);
  }
  if (error instanceof Error && /multipart/i.test(error.message)) return invalid(DocumentsMessages.malformedMultipart);
  return error;
}
