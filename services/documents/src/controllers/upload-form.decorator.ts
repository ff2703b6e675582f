import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Multipart } from '@fastify/multipart';
import { AppError } from '@rallyforge/service-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DocumentsErrorCode } from '../documents.constants';
import { DocumentsMessages } from '../documents.messages';
import type { UploadForm } from '../dtos/document.dto';

/**
 * `upload(@UploadFormParts() form: UploadForm)`: the parts of a multipart request, streamed, so the controller
 * stays a one-line delegation and the service never sees Fastify. 415 MULTIPART_REQUIRED for any other body.
 * Runs after the auth guard, so nothing of an unauthenticated body is parsed.
 *
 * When the service stops reading early (file too large, wrong type, bad field), the rest of the body is still
 * on the wire and the connection cannot be reused; the response then says `Connection: close` so the socket is
 * closed after the error is sent instead of hanging half-read.
 */
export const UploadFormParts = createParamDecorator((_data: unknown, context: ExecutionContext): UploadForm => {
  const http = context.switchToHttp();
  const request = http.getRequest<FastifyRequest>();
  const reply = http.getResponse<FastifyReply>();
  if (!request.isMultipart()) {
    throw new AppError(415, DocumentsErrorCode.MULTIPART_REQUIRED, DocumentsMessages.multipartRequired);
  }
  let parts: AsyncIterableIterator<Multipart>;
  try {
    parts = request.parts();
  } catch {
    // e.g. a multipart Content-Type without a boundary
    throw new AppError(400, DocumentsErrorCode.VALIDATION_FAILED, DocumentsMessages.malformedMultipart);
  }
  return closeConnectionIfAbandoned(parts, () => reply.header('connection', 'close'));
});

function closeConnectionIfAbandoned(parts: AsyncIterableIterator<Multipart>, onAbandon: () => void): UploadForm {
  return {
    async *[Symbol.asyncIterator]() {
      let finished = false;
      try {
        for await (const part of parts) {
          // The body ended before the file's closing boundary, and the parser destroyed the file before anyone read
          // it: such a stream never ends, so a pipeline from it would wait forever (until the server's request
          // timeout, holding a temp file and the request). Refuse it as malformed instead.
          if (part.type === 'file' && part.file.destroyed) {
            throw new AppError(400, DocumentsErrorCode.VALIDATION_FAILED, DocumentsMessages.malformedMultipart);
          }
          yield part;
        }
        finished = true;
      } finally {
        if (!finished) onAbandon();
      }
    },
  };
}
