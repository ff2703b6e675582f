/**
 * Helpers for the bus's integration tests (real RabbitMQ and PostgreSQL from tools/test/global-setup.ts).
 * Only plumbing lives here: starting a Nest microservice on a BusServer, bounded waiting, raw AMQP access for
 * messages a well-behaved producer would never send (duplicates, invalid payloads).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Module, type INestMicroservice, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { connect, type ChannelModel } from 'amqplib';
import { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { BusConnection, BusExceptionFilter, BusServer, BusTables1700000000000, type BusServerOptions } from '../src';

const runFile = promisify(execFile);

export interface RunningService {
  readonly app: INestMicroservice;
  readonly server: BusServer;
  readonly connection: BusConnection;
  readonly registry: Registry;
  close(): Promise<void>;
}

/** A Nest microservice with `controllers`, consuming through a BusServer on its own connection and registry. */
export async function startService(
  url: string,
  options: Omit<BusServerOptions, 'connection' | 'url' | 'registry'> & { controllers: Type[] },
): Promise<RunningService> {
  const registry = new Registry();
  const connection = new BusConnection({ url, name: options.service, registry, reconnect: { initialDelayMs: 100, maxDelayMs: 1000 } });
  const { controllers, ...serverOptions } = options;
  const server = new BusServer({ ...serverOptions, connection, registry });

  @Module({ controllers })
  class ServiceModule {}

  const app = await NestFactory.createMicroservice(ServiceModule, { strategy: server, logger: false });
  app.useGlobalFilters(new BusExceptionFilter());
  await app.listen();
  return {
    app,
    server,
    connection,
    registry,
    close: async () => {
      await app.close();
      await connection.close();
    },
  };
}

/** Polls `probe` until it returns a truthy value; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 15_000, intervalMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    await delay(intervalMs);
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A plain amqplib connection for arranging and inspecting broker state. */
export async function rawConnection(url: string): Promise<ChannelModel> {
  const model = await connect(url);
  model.on('error', () => undefined);
  return model;
}

/** Messages waiting in `queue` (ready, not unacked). */
export async function queueDepth(model: ChannelModel, queue: string): Promise<number> {
  const channel = await model.createChannel();
  try {
    return (await channel.checkQueue(queue)).messageCount;
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/** A DataSource on `url` with the bus tables migrated. */
export async function migratedDataSource(url: string, extraMigrations: Type[] = []): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    migrations: [BusTables1700000000000, ...extraMigrations],
    poolSize: 20,
    logging: false,
  });
  await dataSource.initialize();
  await dataSource.runMigrations();
  return dataSource;
}

/** The value of a labelled counter sample in `registry` (0 when absent). */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  const sample = values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return sample?.value ?? 0;
}

const REPO_ROOT = join(__dirname, '..', '..', '..', '..');

/**
 * Restarts the broker through tools/test/infra's `restartRabbitMq()`, in a child process: that helper blocks on
 * `rabbitmqctl`, and a blocked event loop here would freeze the very producers and consumers whose behaviour
 * during the outage the test is about.
 */
export async function restartBrokerInBackground(): Promise<void> {
  const script = "require('./tools/test/infra').restartRabbitMq().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); })";
  await runFile(process.execPath, ['--import', 'tsx', '-e', script], { cwd: REPO_ROOT, env: process.env, timeout: 180_000 });
}
