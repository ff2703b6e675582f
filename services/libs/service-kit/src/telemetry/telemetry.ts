import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { AmqplibInstrumentation } from '@opentelemetry/instrumentation-amqplib';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK, tracing } from '@opentelemetry/sdk-node';
import type { IncomingMessage } from 'node:http';
import { setTelemetryHandle } from './telemetry-handle';

export type TracesExporter = 'none' | 'otlp' | 'console';

export interface TelemetryOptions {
  serviceName: string;
  exporter: TracesExporter;
}

/** Incoming requests that get no span: probes and scrapes, every few seconds, would be most of all traces. */
const UNTRACED_PATHS = ['/health/', '/metrics'];

/**
 * Starts the OpenTelemetry SDK: spans for HTTP (in and out), pg, ioredis and amqplib (which also carries the
 * W3C trace context in message headers, so a trace crosses the bus).
 *
 * With `exporter: 'none'` the SDK still runs, with the AlwaysOff sampler: spans are non-recording (no attributes
 * kept, nothing exported, next to no cost), but every request still gets a trace id, propagated in `traceparent`
 * to the services it calls and the messages it publishes. Logs of one user action therefore share a `traceId`
 * across services even where no collector exists. With `otlp` or `console`, sampling follows OTEL_TRACES_SAMPLER
 * (parent-based always-on by default).
 *
 * Metrics and logs stay out of the SDK (`metricReaders: []`, `logRecordProcessors: []`): metrics are
 * prom-client's /metrics, logs are pino's stdout. Left to itself the SDK would start OTLP exporters for both.
 */
export function startTelemetry(options: TelemetryOptions): NodeSDK {
  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request: IncomingMessage) =>
          UNTRACED_PATHS.some((path) => (request.url ?? '').startsWith(path)),
      }),
      // Statement text only; parameters hold personal data.
      new PgInstrumentation({ enhancedDatabaseReporting: false }),
      // Command names only; keys and values may hold personal data.
      new IORedisInstrumentation({ dbStatementSerializer: (command) => command }),
      new AmqplibInstrumentation(),
    ],
    metricReaders: [],
    logRecordProcessors: [],
    ...tracesConfig(options.exporter),
  });
  sdk.start();
  setTelemetryHandle(sdk);
  return sdk;
}

function tracesConfig(exporter: TracesExporter) {
  switch (exporter) {
    case 'otlp':
      // The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT itself and appends /v1/traces.
      return { spanProcessors: [new tracing.BatchSpanProcessor(new OTLPTraceExporter())] };
    case 'console':
      return { spanProcessors: [new tracing.SimpleSpanProcessor(new tracing.ConsoleSpanExporter())] };
    case 'none':
      // A processor must exist or the SDK registers no tracer provider at all (and there are no trace ids).
      return { spanProcessors: [new tracing.NoopSpanProcessor()], sampler: new tracing.AlwaysOffSampler() };
  }
}
