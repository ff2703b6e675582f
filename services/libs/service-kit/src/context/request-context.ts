import { AsyncLocalStorage } from 'node:async_hooks';
import { isSpanContextValid, trace } from '@opentelemetry/api';

/** What is known about the unit of work in progress: an HTTP request or a bus message. */
export interface RequestContextData {
  requestId: string;
  /** Set once the caller is authenticated (HTTP) or from the envelope (bus). */
  tenantId?: string;
  userId?: string;
  /** The client's address (X-Forwarded-For only from TRUSTED_PROXIES) and user agent, for the audit log; never logged. */
  ip?: string;
  userAgent?: string;
  /** Trace id of the span active when the context began; the logger prefers the span active at log time. */
  traceId?: string;
}

const storage = new AsyncLocalStorage<RequestContextData>();
/** Where an HTTP request keeps its context object, for code that runs outside its async scope (onResponse). */
const ON_REQUEST = Symbol.for('rallyforge.requestContext');

/**
 * Per-request context carried by AsyncLocalStorage, read by the logger (every line gets requestId, tenantId,
 * traceId) and by repositories (tenant scoping). The store is a mutable object: the auth guard fills in the
 * tenant after the context began.
 */
export const RequestContext = {
  /** Runs `fn` with a fresh context; the trace id is taken from the active span when there is one. */
  run<T>(data: RequestContextData, fn: () => T): T {
    return storage.run({ ...data, traceId: data.traceId ?? currentTraceId() }, fn);
  },

  /** Creates the context of an HTTP request and attaches it to the request object. */
  attach(request: object, data: RequestContextData): RequestContextData {
    const context: RequestContextData = { ...data, traceId: data.traceId ?? currentTraceId() };
    (request as Record<symbol, RequestContextData>)[ON_REQUEST] = context;
    return context;
  },

  /** The context attached to an HTTP request. */
  of(request: object): RequestContextData | undefined {
    return (request as Record<symbol, RequestContextData | undefined>)[ON_REQUEST];
  },

  /** Runs `fn` inside an existing context object (shared, not copied). */
  enter<T>(context: RequestContextData, fn: () => T): T {
    return storage.run(context, fn);
  },

  /** The context of the current unit of work, or undefined outside of one (boot, timers). */
  current(): RequestContextData | undefined {
    return storage.getStore();
  },

  /** The current tenant; throws when there is none, because a tenant-scoped query without one is a bug. */
  requireTenantId(): string {
    const tenantId = storage.getStore()?.tenantId;
    if (!tenantId) {
      throw new Error('No tenant in the request context: the caller is not authenticated or this runs outside a request');
    }
    return tenantId;
  },

  /** Adds what became known later (tenant and user after authentication) to the current context. */
  assign(data: Partial<RequestContextData>): void {
    const store = storage.getStore();
    if (store) {
      Object.assign(store, data);
    }
  },
};

/** The trace id of the active span, if a valid one exists (the SDK may not be started). */
export function currentTraceId(): string | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}
