import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freshVhost } from '@rallyforge/tools/test/infra';

const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
}
interface ExportedSpan extends OtlpSpan {
  scope: string;
  service: string;
}

/** A stand-in OpenTelemetry collector: OTLP/HTTP JSON on /v1/traces, spans kept for assertions. */
async function startCollector(): Promise<{ server: Server; url: string; spans: ExportedSpan[] }> {
  const spans: ExportedSpan[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      if (request.url === '/v1/traces') {
        const payload = JSON.parse(body) as {
          resourceSpans: Array<{
            resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
            scopeSpans: Array<{ scope: { name: string }; spans: OtlpSpan[] }>;
          }>;
        };
        for (const resourceSpans of payload.resourceSpans) {
          const service = resourceSpans.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
          for (const scopeSpans of resourceSpans.scopeSpans) {
            for (const span of scopeSpans.spans) spans.push({ ...span, scope: scopeSpans.scope.name, service });
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans };
}

describe('telemetry/register (child process with -r)', () => {
  let vhost: Awaited<ReturnType<typeof freshVhost>>;

  beforeAll(async () => {
    vhost = await freshVhost('telemetry');
  });

  afterAll(async () => {
    await vhost?.drop();
  });

  async function runFixture(env: Record<string, string>) {
    const { stdout } = await run(
      process.execPath,
      [
        '-r',
        join(ROOT, 'test', 'swc-register.js'),
        '-r',
        join(ROOT, 'src', 'telemetry', 'register.ts'),
        join(ROOT, 'test', 'fixtures', 'telemetry-main.ts'),
      ],
      {
        cwd: ROOT,
        timeout: 30_000,
        env: {
          ...process.env,
          SERVICE_NAME: 'telemetry-test',
          TEST_PG_URL: process.env.RF_TEST_PG_URL!,
          TEST_REDIS_URL: process.env.RF_TEST_REDIS_URL!,
          TEST_AMQP_URL: vhost.url,
          ...env,
        },
      },
    );
    const lines = stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const { result } = lines.find((line) => 'result' in line) as { result: Record<string, string> };
    return { result, lines };
  }

  it('with otlp, exports spans for HTTP, pg, ioredis and amqplib in one trace across the bus', async () => {
    const collector = await startCollector();
    try {
      const { result, lines } = await runFixture({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: collector.url });
      const traceId = result.serverTraceId;
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(result.consumerTraceId).toBe(traceId);
      expect(result.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      expect(lines.find((line) => line.msg === 'Inside the handler')).toMatchObject({ traceId });

      const scopes = new Set(collector.spans.filter((span) => span.traceId === traceId).map((span) => span.scope));
      expect([...scopes]).toEqual(
        expect.arrayContaining([
          '@opentelemetry/instrumentation-http',
          '@opentelemetry/instrumentation-pg',
          '@opentelemetry/instrumentation-ioredis',
          '@opentelemetry/instrumentation-amqplib',
        ]),
      );
      expect(collector.spans.every((span) => span.service === 'telemetry-test')).toBe(true);
      const amqpSpans = collector.spans.filter((span) => span.scope === '@opentelemetry/instrumentation-amqplib');
      const publish = amqpSpans.find((span) => span.kind === 4 /* PRODUCER */);
      const consume = amqpSpans.find((span) => span.kind === 5 /* CONSUMER */);
      expect(consume?.parentSpanId).toBe(publish?.spanId);
    } finally {
      collector.server.close();
    }
  });

  it('with none (the default), exports nothing but still gives logs and the bus a trace id', async () => {
    const collector = await startCollector();
    try {
      const { result, lines } = await runFixture({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url });
      expect(result.serverTraceId).toMatch(/^[0-9a-f]{32}$/);
      expect(result.consumerTraceId).toBe(result.serverTraceId);
      expect(result.traceparent).toMatch(new RegExp(`^00-${result.serverTraceId}-[0-9a-f]{16}-00$`));
      expect(lines.find((line) => line.msg === 'Inside the handler')).toMatchObject({ traceId: result.serverTraceId });
      expect(collector.spans).toEqual([]);
    } finally {
      collector.server.close();
    }
  });

  it('stops a service whose telemetry settings are wrong, naming the variable', async () => {
    await expect(runFixture({ OTEL_TRACES_EXPORTER: 'jaeger' })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('OTEL_TRACES_EXPORTER: expected one of none, otlp, console, got \\"jaeger\\"'),
    });
  });
});
