/** Stable, upper-snake error codes: clients switch on these, never on messages. */
export const ErrorCode = {
  BAD_REQUEST: 'BAD_REQUEST',
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  CONFLICT: 'CONFLICT',
  GONE: 'GONE',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  UNPROCESSABLE: 'UNPROCESSABLE',
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
  INTERNAL: 'INTERNAL',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * An error meant for the caller: its status, code and message go into the response body as they are, so the
 * message must be safe to show. Services may use their own codes (`CLAIM_ALREADY_SUBMITTED`) as long as they
 * are upper-snake and stable.
 */
export class AppError extends Error {
  override readonly name = 'AppError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const badRequest = (message: string): AppError => new AppError(400, ErrorCode.BAD_REQUEST, message);
export const validationFailed = (message: string): AppError =>
  new AppError(400, ErrorCode.VALIDATION_FAILED, message);
export const unauthenticated = (message = 'Authentication required'): AppError =>
  new AppError(401, ErrorCode.UNAUTHENTICATED, message);
export const forbidden = (message = 'You are not allowed to do this'): AppError =>
  new AppError(403, ErrorCode.FORBIDDEN, message);
/** `notFound('Claim')` → 404 "Claim not found". */
export const notFound = (what: string): AppError => new AppError(404, ErrorCode.NOT_FOUND, `${what} not found`);
export const conflict = (message: string): AppError => new AppError(409, ErrorCode.CONFLICT, message);
export const unprocessable = (message: string): AppError => new AppError(422, ErrorCode.UNPROCESSABLE, message);
export const serviceUnavailable = (message = 'Service temporarily unavailable'): AppError =>
  new AppError(503, ErrorCode.SERVICE_UNAVAILABLE, message);
