import { context, propagation, trace, TraceFlags } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { extractTraceContext, injectTraceHeaders } from './trace-context';

const spanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };

describe('trace context', () => {
  afterEach(() => propagation.disable());

  it('injects nothing without a registered propagator (no OpenTelemetry SDK)', () => {
    const ctx = trace.setSpanContext(context.active(), spanContext);
    expect(injectTraceHeaders(ctx)).toEqual({});
  });

  it('round-trips W3C traceparent through message headers', () => {
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const ctx = trace.setSpanContext(context.active(), spanContext);
    const headers = injectTraceHeaders(ctx);
    expect(headers.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    const extracted = trace.getSpanContext(extractTraceContext({ ...headers, 'x-rf-tenant-id': 'acme' }));
    expect(extracted).toMatchObject({ traceId: spanContext.traceId, spanId: spanContext.spanId, isRemote: true });
  });

  it('reads traceparent sent as bytes by another client', () => {
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const extracted = trace.getSpanContext(extractTraceContext({ traceparent: Buffer.from('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01') }));
    expect(extracted?.traceId).toBe(spanContext.traceId);
  });

  it('extracts an empty context from headers without trace', () => {
    expect(trace.getSpanContext(extractTraceContext(undefined))).toBeUndefined();
  });
});
