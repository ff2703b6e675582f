/** User-facing and log messages of the documents service, as constants. */
export const DocumentsMessages = {
  documentNotFound: 'Document not found',
  contentMissing: 'The content of this document is not available; contact support with the document id',
  unsupportedType: 'Only PDF, JPEG, PNG and DOCX files are accepted (recognised from the file content, not its name)',
  storageQuotaExceeded: (limitBytes: number) =>
    `Your organisation's document storage (${limitBytes} bytes) is full: ask your organisation's administrator to raise the limit`,
  tooLarge: (maxBytes: number) => `The file is larger than the limit of ${maxBytes} bytes`,
  multipartRequired: 'Send the upload as multipart/form-data with the fields "claimId" and "file"',
  fileMissing: 'The "file" field is missing: attach exactly one file',
  claimIdInvalid: 'claimId must be a UUID',
  unexpectedField: (name: string) => `Unexpected form field "${name}": only "claimId" and "file" are accepted`,
  tooManyParts: 'Too many form fields or files: send one "claimId" and one "file"',
  malformedMultipart: 'The multipart body is malformed',
  storedFileCleanupFailed: 'Could not delete the stored file of a failed upload; it is orphaned',
  documentStored: 'Stored document',
} as const;
