/** Default and hard ceiling of UPLOAD_MAX_BYTES. */
export const DEFAULT_UPLOAD_MAX_BYTES = 10 * 1024 * 1024;
export const UPLOAD_MAX_BYTES_CEILING = 100 * 1024 * 1024;

/** Multipart form field names of POST /documents. */
export const UPLOAD_FILE_FIELD = 'file';
export const UPLOAD_CLAIM_ID_FIELD = 'claimId';

/** Multipart limits besides the file size: one file, a few short fields, nothing else. */
export const MULTIPART_LIMITS = {
  files: 1,
  fields: 4,
  parts: 6,
  fieldNameSize: 64,
  fieldSize: 256,
  headerPairs: 20,
} as const;

/** Stable error codes of this service (besides the kit's generic ones). */
export const DocumentsErrorCode = {
  DOCUMENT_NOT_FOUND: 'DOCUMENT_NOT_FOUND',
  DOCUMENT_CONTENT_MISSING: 'DOCUMENT_CONTENT_MISSING',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  STORAGE_QUOTA_EXCEEDED: 'STORAGE_QUOTA_EXCEEDED',
  MULTIPART_REQUIRED: 'MULTIPART_REQUIRED',
  VALIDATION_FAILED: 'VALIDATION_FAILED',
} as const;

/** Service name: API path segment, log `service` field, outbox app-id. */
export const DOCUMENTS_SERVICE_NAME = 'documents';
