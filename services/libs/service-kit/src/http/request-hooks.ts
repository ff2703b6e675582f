import { AsyncResource } from 'node:async_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { RequestContext } from '../context/request-context';
import type { MetricsService } from '../metrics/metrics.service';
import type { InFlightTracker } from './in-flight-tracker';
import { REQUEST_ID_HEADER } from './request-id';

const ASYNC_RESOURCE = Symbol('rallyforge.requestAsyncResource');
/** Probe and scrape routes: logged at debug, or they would drown everything else. */
const QUIET_ROUTES = new Set(['/health/live', '/health/ready', '/health/startup', '/metrics']);

/** Longer user agents are cut (the audit log keeps 300 characters). */
const USER_AGENT_MAX_LENGTH = 300;

type RequestWithResource = FastifyRequest & { [ASYNC_RESOURCE]?: AsyncResource };

/**
 * Per-request plumbing, as Fastify hooks so it covers every request, including those Nest never routes (404,
 * 413): the request context (AsyncLocalStorage), the x-request-id response header, the in-flight count, the
 * HTTP metrics, and one "Request completed" log line (route template, never the path: paths and query strings
 * can carry personal data).
 */
export function registerRequestHooks(
  fastify: FastifyInstance,
  deps: { logger: Logger; metrics: MetricsService; tracker: InFlightTracker },
): void {
  fastify.addHook('onRequest', (request: RequestWithResource, reply, done) => {
    const userAgent = request.headers['user-agent'];
    const context = RequestContext.attach(request, {
      requestId: String(request.id),
      ip: request.ip,
      ...(typeof userAgent === 'string' ? { userAgent: userAgent.slice(0, USER_AGENT_MAX_LENGTH) } : {}),
    });
    void reply.header(REQUEST_ID_HEADER, context.requestId);
    deps.tracker.start();
    deps.metrics.httpRequestsInFlight.inc();
    reply.raw.once('close', () => {
      deps.tracker.end();
      deps.metrics.httpRequestsInFlight.dec();
    });
    // As @fastify/request-context does: enter the store, and keep an AsyncResource to re-enter it after body
    // parsing, whose stream callbacks lose the async context.
    RequestContext.enter(context, () => {
      const resource = new AsyncResource('rallyforge-request');
      request[ASYNC_RESOURCE] = resource;
      resource.runInAsyncScope(done, request.raw);
    });
  });

  fastify.addHook('preValidation', (request: RequestWithResource, _reply, done) => {
    const resource = request[ASYNC_RESOURCE];
    if (resource) {
      resource.runInAsyncScope(done, request.raw);
    } else {
      done();
    }
  });

  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url;
    const statusCode = reply.statusCode;
    const durationMs = reply.elapsedTime;
    deps.metrics.observeHttpRequest({ method: request.method, route, statusCode }, durationMs / 1000);
    const context = RequestContext.of(request) ?? { requestId: String(request.id) };
    RequestContext.enter(context, () => {
      const level = route && QUIET_ROUTES.has(route) ? 'debug' : 'info';
      deps.logger[level](
        { method: request.method, route: route ?? 'unmatched', statusCode, durationMs: Math.round(durationMs) },
        'Request completed',
      );
    });
    done();
  });
}
