import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { toErrorBody } from '../errors/error-body';
import { ADDRESS_DECISION, type RequestWithDecision } from './rate-limit.guard';
import { RateLimitService } from './rate-limit.service';

/** Probes and the scrape endpoint are never limited: Kubernetes and Prometheus call them on a schedule. */
export const RATE_LIMIT_EXEMPT_ROUTES: ReadonlySet<string> = new Set(['/health/live', '/health/ready', '/health/startup', '/metrics']);

/**
 * The per-address limit as a Fastify onRequest hook: it runs for every request (routed or not, authenticated or
 * not) before the body is read, and answers 429 in the kit's error shape with Retry-After.
 */
export function registerRateLimitHook(fastify: FastifyInstance, limits: RateLimitService): void {
  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const route = request.routeOptions.url;
    if (route !== undefined && RATE_LIMIT_EXEMPT_ROUTES.has(route)) return;
    const decision = await limits.checkAddress(request.ip);
    if (!decision) return;
    (request as RequestWithDecision)[ADDRESS_DECISION] = decision;
    RateLimitService.applyHeaders(reply, decision);
    if (!decision.allowed) {
      const body = toErrorBody(RateLimitService.tooManyRequests(decision), String(request.id));
      await reply.status(429).header('content-type', 'application/json; charset=utf-8').send(body);
    }
  });
}
