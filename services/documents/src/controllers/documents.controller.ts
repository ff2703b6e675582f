import { Controller, Get, Header, HttpCode, Param, ParseUUIDPipe, Post, StreamableFile } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiProduces,
  ApiTags,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import { CurrentUser, RequirePermission, type AuthUser } from '@rallyforge/service-kit';
import { DocumentDto, UPLOAD_DOCUMENT_SCHEMA, type UploadForm } from '../dtos/document.dto';
import { DocumentsService } from '../services/documents.service';
import { UploadFormParts } from './upload-form.decorator';

@ApiTags('documents')
@ApiBearerAuth()
@Controller('documents')
export class DocumentsController {
  constructor(private readonly service: DocumentsService) {}

  @Post()
  @RequirePermission('documents:upload')
  @HttpCode(201)
  @ApiOperation({ summary: 'Uploads an evidence document for one of the caller\'s claims; emits document.uploaded' })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: UPLOAD_DOCUMENT_SCHEMA })
  @ApiCreatedResponse({ type: DocumentDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: claimId missing or not a UUID, no file, unknown fields' })
  @ApiPayloadTooLargeResponse({ description: "PAYLOAD_TOO_LARGE: the file is over UPLOAD_MAX_BYTES; STORAGE_QUOTA_EXCEEDED: the organisation's documentStorageBytes is used up" })
  @ApiUnsupportedMediaTypeResponse({ description: 'UNSUPPORTED_MEDIA_TYPE: the content is not PDF, JPEG, PNG or DOCX; MULTIPART_REQUIRED' })
  upload(@CurrentUser() user: AuthUser, @UploadFormParts() form: UploadForm): Promise<DocumentDto> {
    return this.service.upload(user, form);
  }

  @Get(':id')
  @RequirePermission('documents:read')
  @ApiOperation({ summary: 'Metadata of a document (its uploader, or a representative/org admin of the organisation)' })
  @ApiOkResponse({ type: DocumentDto })
  @ApiNotFoundResponse({ description: 'DOCUMENT_NOT_FOUND' })
  get(@CurrentUser() user: AuthUser, @Param('id', ParseUUIDPipe) id: string): Promise<DocumentDto> {
    return this.service.get(user, id);
  }

  @Get(':id/content')
  @RequirePermission('documents:read')
  @Header('X-Content-Type-Options', 'nosniff')
  @Header('Cache-Control', 'private, no-store')
  @Header('Content-Security-Policy', "default-src 'none'; sandbox")
  @ApiOperation({ summary: 'Downloads the document (always as an attachment, with its recognised type)' })
  @ApiProduces('application/pdf', 'image/jpeg', 'image/png', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document')
  @ApiOkResponse({ schema: { type: 'string', format: 'binary' } })
  @ApiNotFoundResponse({ description: 'DOCUMENT_NOT_FOUND' })
  content(@CurrentUser() user: AuthUser, @Param('id', ParseUUIDPipe) id: string): Promise<StreamableFile> {
    return this.service.openContent(user, id);
  }
}
