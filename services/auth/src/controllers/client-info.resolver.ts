import { Injectable } from '@nestjs/common';
import { decodeJwt } from 'jose';
import { normaliseUserAgent, unmapIpv4, type ClientInfo } from '../utils/client-info';

/** The parts of an HTTP request (Fastify's) that say who is calling. */
export interface CallerRequest {
  /** Fastify's client address: X-Forwarded-For counts only when the peer is one of the kit's TRUSTED_PROXIES. */
  ip?: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Reads who is calling from an HTTP request: the client address (as Fastify resolved it behind trusted proxies), the
 * user agent, and the session (`sid` claim) of the bearer token.
 */
@Injectable()
export class ClientInfoResolver {
  of(request: CallerRequest): ClientInfo {
    return {
      ip: request.ip ? unmapIpv4(request.ip) : undefined,
      userAgent: normaliseUserAgent(request.headers['user-agent']),
    };
  }

  /**
   * The `sid` claim of the request's bearer token. Only called on authenticated routes, after the kit's guard verified
   * that very token, so decoding without verifying again is safe; undefined for tokens issued before sessions existed.
   */
  sessionIdOf(request: CallerRequest): string | undefined {
    const header = request.headers.authorization;
    const token = (Array.isArray(header) ? header[0] : header)?.replace(/^Bearer\s+/i, '').trim();
    if (!token) return undefined;
    try {
      const { sid } = decodeJwt(token);
      return typeof sid === 'string' ? sid : undefined;
    } catch {
      return undefined;
    }
  }
}
