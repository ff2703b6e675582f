import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import '@fastify/multipart'; // FastifyRequest.isMultipart/parts typings
import { AppError } from '@rallyforge/service-kit';
import type { FastifyRequest } from 'fastify';
import { DocumentsErrorCode } from '../documents.constants';
import { DocumentsMessages } from '../documents.messages';
import type { UploadForm } from '../dtos/document.dto';

/**
 * The parts of a multipart request; 415 MULTIPART_REQUIRED for any other body.
 * `upload(@UploadFormParts() form: UploadForm)`: hands the multipart stream to the service, so the controller
 * stays a one-line delegation and the service never sees Fastify. Runs after the auth guard.
 */
export const UploadFormParts = createParamDecorator((_data: unknown, context: ExecutionContext): UploadForm => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  if (!request.isMultipart()) {
    throw new AppError(415, DocumentsErrorCode.MULTIPART_REQUIRED, DocumentsMessages.multipartRequired);
  }
  try {
    return request.parts();
  } catch {
    // e.g. a multipart Content-Type without a boundary
    throw new AppError(400, DocumentsErrorCode.VALIDATION_FAILED, DocumentsMessages.malformedMultipart);
  }
});
