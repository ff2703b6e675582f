import { HttpException } from '@nestjs/common';
import { AppError, ErrorCode } from './app-error';

/** The one error body every endpoint returns. */
export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  requestId: string;
}

export const INTERNAL_ERROR_MESSAGE = 'Internal server error';

const CODE_BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: ErrorCode.BAD_REQUEST,
  401: ErrorCode.UNAUTHENTICATED,
  403: ErrorCode.FORBIDDEN,
  404: ErrorCode.NOT_FOUND,
  405: ErrorCode.METHOD_NOT_ALLOWED,
  409: ErrorCode.CONFLICT,
  410: ErrorCode.GONE,
  413: ErrorCode.PAYLOAD_TOO_LARGE,
  415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
  422: ErrorCode.UNPROCESSABLE,
  429: ErrorCode.TOO_MANY_REQUESTS,
  503: ErrorCode.SERVICE_UNAVAILABLE,
};

/** The error code for a status that carries no code of its own. */
export function codeForStatus(status: number): string {
  return CODE_BY_STATUS[status] ?? (status >= 500 ? ErrorCode.INTERNAL : ErrorCode.BAD_REQUEST);
}

/**
 * Maps anything thrown to the error body. AppError and HttpException keep their status and message below 500;
 * every 5xx except an explicit AppError/503 says only "Internal server error", because messages of unexpected
 * errors carry internals (SQL, hosts, stack fragments).
 */
export function toErrorBody(exception: unknown, requestId: string): ErrorBody {
  if (exception instanceof AppError) {
    const status = validStatus(exception.status);
    const exposeMessage = status < 500 || status === 503;
    return {
      statusCode: status,
      code: exception.code,
      message: exposeMessage ? exception.message : INTERNAL_ERROR_MESSAGE,
      requestId,
    };
  }
  if (exception instanceof HttpException) {
    const status = validStatus(exception.getStatus());
    return {
      statusCode: status,
      code: codeForStatus(status),
      message: status < 500 ? httpExceptionMessage(exception) : defaultServerMessage(status),
      requestId,
    };
  }
  return { statusCode: 500, code: ErrorCode.INTERNAL, message: INTERNAL_ERROR_MESSAGE, requestId };
}

function validStatus(status: number): number {
  return Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500;
}

function defaultServerMessage(status: number): string {
  return status === 503 ? 'Service temporarily unavailable' : INTERNAL_ERROR_MESSAGE;
}

/** Nest exceptions carry either a string or `{ message: string | string[] }`. */
function httpExceptionMessage(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') {
    return response;
  }
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) {
    return message.map(String).join('; ');
  }
  return typeof message === 'string' ? message : exception.message;
}
