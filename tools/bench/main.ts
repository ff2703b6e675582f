import { ensureInfra } from '../infra';
import { buildServices } from '../platform/stack';
import { benchBus, benchRawAmqp } from './bus';
import { benchClaims } from './claims';

/**
 * npm run bench: figures, not assertions (the machines are shared and noisy), each against a baseline measured in
 * the same run. Last line: `BENCH {json}`.
 */
async function main(): Promise<void> {
  const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
  const duration = Number(process.env.BENCH_DURATION_S ?? 10);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 20);
  const busEvents = Number(process.env.BENCH_BUS_EVENTS ?? 20_000);
  await ensureInfra(log);
  buildServices(log);

  const { claims, baseline } = await benchClaims(log, duration, connections);
  log(`bus: raw amqplib publishing ${busEvents} messages with confirms`);
  const raw = await benchRawAmqp(busEvents);
  log(`bus: ${busEvents} events outbox → relay → confirm → consume (inbox) → ack`);
  const bus = await benchBus(busEvents);

  const r = (n: number) => Math.round(n);
  const rows = [
    ['measure', 'value', 'baseline', 'ratio'],
    ['GET /api/v1/claims via gateway (req/s)', r(claims.rps), r(baseline.rps), (claims.rps / baseline.rps).toFixed(3)],
    ['  p50 / p99 latency (ms)', `${claims.p50Ms} / ${claims.p99Ms}`, `${baseline.p50Ms} / ${baseline.p99Ms}`, ''],
    ['  errors / non-2xx', `${claims.errors} / ${claims.non2xx}`, `${baseline.errors} / ${baseline.non2xx}`, ''],
    ['bus end to end (events/s)', r(bus.eventsPerSecond), r(raw.eventsPerSecond), (bus.eventsPerSecond / raw.eventsPerSecond).toFixed(3)],
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
  for (const row of rows) process.stdout.write(row.map((c, i) => String(c).padEnd(widths[i])).join('  ') + '\n');
  process.stdout.write(`\nbaseline for claims: bare Fastify hello-world; baseline for the bus: raw amqplib publish with confirms (no consumer)\n`);
  const result = {
    claims_get_rps: r(claims.rps),
    claims_get_p50_ms: claims.p50Ms,
    claims_get_p99_ms: claims.p99Ms,
    claims_get_errors: claims.errors + claims.non2xx,
    baseline_rps: r(baseline.rps),
    claims_ratio: Number((claims.rps / baseline.rps).toFixed(3)),
    bus_events_per_s: r(bus.eventsPerSecond),
    bus_baseline_per_s: r(raw.eventsPerSecond),
    bus_ratio: Number((bus.eventsPerSecond / raw.eventsPerSecond).toFixed(3)),
    connections,
    duration_s: duration,
    bus_events: busEvents,
  };
  process.stdout.write(`BENCH ${JSON.stringify(result)}\n`);
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`[bench] ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
