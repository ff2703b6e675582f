import { context, propagation, ROOT_CONTEXT, type Context, type TextMapGetter } from '@opentelemetry/api';
import { BusHeaders } from '@rallyforge/contracts';

/** W3C trace headers as they travel in AMQP headers and in outbox rows. */
export type TraceHeaders = Partial<Record<typeof BusHeaders.traceparent | typeof BusHeaders.tracestate, string>>;

const headerGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    if (value === undefined || value === null) return undefined;
    // amqplib hands long strings back as strings, but a header set by another client may arrive as bytes.
    return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
  },
};

/**
 * The W3C `traceparent`/`tracestate` of `ctx` (the active context by default). Empty without an OpenTelemetry
 * SDK (the API's propagator is a no-op then), so the bus works the same with and without tracing.
 */
export function injectTraceHeaders(ctx: Context = context.active()): TraceHeaders {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  const headers: TraceHeaders = {};
  if (carrier[BusHeaders.traceparent]) headers.traceparent = carrier[BusHeaders.traceparent];
  if (carrier[BusHeaders.tracestate]) headers.tracestate = carrier[BusHeaders.tracestate];
  return headers;
}

/** The context a consumer should run its handler in: the producer's trace as remote parent. */
export function extractTraceContext(headers: Record<string, unknown> | undefined): Context {
  return propagation.extract(ROOT_CONTEXT, headers ?? {}, headerGetter);
}
