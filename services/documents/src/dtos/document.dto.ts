import type { Multipart } from '@fastify/multipart';
import { ApiProperty } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { SupportedContentTypes } from '../content/content-type';

export class DocumentDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid', description: 'The claim this document was uploaded as evidence for' })
  claimId!: string;

  @ApiProperty({ format: 'uuid', description: 'The user who uploaded it' })
  ownerId!: string;

  @ApiProperty({ example: 'service-record.pdf', description: 'The sanitised name given by the uploader' })
  filename!: string;

  @ApiProperty({ enum: Object.values(SupportedContentTypes), description: 'Recognised from the content (magic bytes)' })
  contentType!: string;

  @ApiProperty({ example: 48213 })
  sizeBytes!: number;

  @ApiProperty({ description: 'Lower-case hex SHA-256 of the content', example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' })
  sha256!: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;
}

/** OpenAPI description of the multipart body of POST /documents (validated by DocumentsService, not a pipe). */
export const UPLOAD_DOCUMENT_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['claimId', 'file'],
  properties: {
    claimId: { type: 'string', format: 'uuid', description: "One of the uploader's claims" },
    file: { type: 'string', format: 'binary', description: 'PDF, JPEG, PNG or DOCX, at most UPLOAD_MAX_BYTES (10 MB)' },
  },
};

/** The parts of a multipart upload, streamed (nothing buffered). */
export type UploadForm = AsyncIterable<Multipart>;
