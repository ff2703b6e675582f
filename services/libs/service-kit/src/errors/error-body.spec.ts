import { BadRequestException, HttpException, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { AppError, forbidden, notFound } from './app-error';
import { toErrorBody } from './error-body';

describe('toErrorBody', () => {
  it('keeps the status, code and message of an AppError', () => {
    expect(toErrorBody(notFound('Claim'), 'req-1')).toEqual({
      statusCode: 404,
      code: 'NOT_FOUND',
      message: 'Claim not found',
      requestId: 'req-1',
    });
    expect(toErrorBody(forbidden(), 'req-2')).toMatchObject({ statusCode: 403, code: 'FORBIDDEN' });
    expect(toErrorBody(new AppError(409, 'CLAIM_ALREADY_SUBMITTED', 'Already submitted'), 'r')).toMatchObject({
      statusCode: 409,
      code: 'CLAIM_ALREADY_SUBMITTED',
    });
  });

  it('maps Nest and Fastify HTTP exceptions to stable codes', () => {
    expect(toErrorBody(new PayloadTooLargeException('Request body is too large'), 'r')).toEqual({
      statusCode: 413,
      code: 'PAYLOAD_TOO_LARGE',
      message: 'Request body is too large',
      requestId: 'r',
    });
    expect(toErrorBody(new NotFoundException('Cannot GET /nope'), 'r').code).toBe('NOT_FOUND');
    expect(toErrorBody(new HttpException('Unsupported Media Type: text/xml', 415), 'r').code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(toErrorBody(new HttpException('I am a teapot', 418), 'r').code).toBe('BAD_REQUEST');
  });

  it('joins the message list of a BadRequestException', () => {
    expect(toErrorBody(new BadRequestException(['a is bad', 'b is bad']), 'r').message).toBe('a is bad; b is bad');
  });

  it('never leaks internals of server errors', () => {
    const body = toErrorBody(new Error('connect ECONNREFUSED 10.0.0.7:5432 password=hunter2'), 'r');
    expect(body).toEqual({ statusCode: 500, code: 'INTERNAL', message: 'Internal server error', requestId: 'r' });
    expect(toErrorBody(new HttpException('stack at db.ts:42', 502), 'r')).toMatchObject({
      statusCode: 502,
      code: 'INTERNAL',
      message: 'Internal server error',
    });
    expect(toErrorBody(new AppError(500, 'INTERNAL', 'SQL said no'), 'r').message).toBe('Internal server error');
    expect(toErrorBody('a string', 'r').statusCode).toBe(500);
  });

  it('lets a deliberate 503 explain itself', () => {
    expect(toErrorBody(new AppError(503, 'SERVICE_UNAVAILABLE', 'Token keys are temporarily unavailable'), 'r').message).toBe(
      'Token keys are temporarily unavailable',
    );
  });

  it('treats an out-of-range status as a server error', () => {
    expect(toErrorBody(new AppError(200, 'ODD', 'odd'), 'r').statusCode).toBe(500);
  });
});
