import type { FastifyInstance } from 'fastify';
import { validationFailed } from '../errors/app-error';

/** The only request body type the kit parses (uploads register multipart themselves). */
export const JSON_CONTENT_TYPE = 'application/json';

/**
 * The deepest JSON body accepted. The services' DTOs are one or two levels deep; deeper bodies only make recursive
 * code downstream (Nest's prototype-key stripping, class-transformer) overflow its stack, which was a 500.
 */
export const MAX_JSON_DEPTH = 32;

export const JsonBodyMessages = {
  tooDeep: `Request body is nested too deeply: at most ${MAX_JSON_DEPTH} levels of objects and arrays`,
  badText: (path: string) =>
    `${path || 'body'} must be valid Unicode text without NUL characters (it has a NUL or an unpaired surrogate); send plain UTF-8 text`,
} as const;

/**
 * The first reason `value` (a parsed JSON body) cannot be handed to the application, or undefined. Iterative, so a
 * hostile body cannot overflow the stack here either. Strings (keys too) must be well-formed UTF-16 without NUL:
 * PostgreSQL cannot store NUL in text (the insert failed with a 500), validators crash on unpaired surrogates
 * (validator's isEmail calls encodeURI, which throws), and neither ever belongs in this API's text.
 */
export function jsonBodyProblem(value: unknown): string | undefined {
  const stack: Array<{ value: unknown; depth: number; path: string }> = [{ value, depth: 0, path: '' }];
  while (stack.length > 0) {
    const { value: current, depth, path } = stack.pop()!;
    if (typeof current === 'string') {
      if (!isSafeText(current)) return JsonBodyMessages.badText(path);
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) return JsonBodyMessages.tooDeep;
    for (const [key, child] of Object.entries(current)) {
      const childPath = Array.isArray(current) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      if (!isSafeText(key)) return JsonBodyMessages.badText(path || 'a field name');
      stack.push({ value: child, depth: depth + 1, path: childPath });
    }
  }
  return undefined;
}

/** NUL, or a surrogate code point: with the `u` flag only unpaired surrogates are matched (pairs are one code point). */
// eslint-disable-next-line no-control-regex -- matching NUL is the point
const UNSAFE_TEXT = /[\u0000\p{Cs}]/u;

function isSafeText(text: string): boolean {
  return !UNSAFE_TEXT.test(text);
}

/**
 * Makes JSON the only body Fastify parses, with the same secure parser (`__proto__` and `constructor.prototype` are
 * refused) plus `jsonBodyProblem`: 400 VALIDATION_FAILED for what no DTO should ever see. Anything else gets 415
 * (Nest's own parsers are not registered: its form-urlencoded parser let a cross-site HTML form post to the API, and
 * Fastify's text/plain parser handed raw strings to the validation pipe).
 */
export function registerJsonBodyParser(fastify: FastifyInstance): void {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(JSON_CONTENT_TYPE, { parseAs: 'string' }, (request, body, done) => {
    parse(request, body as string, (error: Error | null, value?: unknown) => {
      if (error) return done(error, undefined);
      const problem = jsonBodyProblem(value);
      if (problem) return done(validationFailed(problem), undefined);
      done(null, value);
    });
  });
}
