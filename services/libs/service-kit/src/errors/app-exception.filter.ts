import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { throwError, type Observable } from 'rxjs';
import { toErrorBody } from './error-body';

/**
 * Global HTTP exception filter: every error leaves as `{ statusCode, code, message, requestId }`. Server errors
 * are logged with their stack here, once; the body never carries it.
 */
@Catch()
export class AppExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void | Observable<never> {
    if (host.getType() !== 'http') {
      // Bus handlers have their own error path (retry, park); hand the error back to the transport untouched.
      return throwError(() => exception);
    }
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const body = toErrorBody(exception, String(request.id));

    if (body.statusCode >= 500) {
      this.logger.error(
        { err: exception, statusCode: body.statusCode, method: request.method, route: request.routeOptions?.url },
        'Request failed with a server error',
      );
    } else {
      this.logger.debug({ statusCode: body.statusCode, code: body.code, errorMessage: body.message }, 'Request rejected');
    }

    if (reply.sent) {
      return;
    }
    if (body.statusCode === 401) {
      void reply.header('www-authenticate', 'Bearer');
    }
    void reply.status(body.statusCode).header('content-type', 'application/json; charset=utf-8').send(body);
  }
}
