import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BusClient, BUS_EXCHANGE, BUS_EXCHANGE_TYPE } from '@rallyforge/bus';
import {
  bootstrapService,
  createLogger,
  postgresDataSourceOptions,
  runMigrations,
} from '@rallyforge/service-kit';
import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { freshDatabase, freshVhost } from '@rallyforge/tools/test/infra';
import { AppModule, busOf } from '../src/app.module';
import { loadAuthConfig, type AuthConfig } from '../src/config';
import { AUTH_DATABASE } from '../src/database';

/** Response bodies are asserted field by field; typing each one would only restate the assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

type Disposable = Awaited<ReturnType<typeof freshDatabase>>;
type Vhost = Awaited<ReturnType<typeof freshVhost>>;

/** A strong password that meets the policy. */
export const GOOD_PASSWORD = 'Correct-Horse-9';

/** A unique organisation id per test, so Redis login counters never leak between tests or runs. */
export function uniqueOrg(label: string): string {
  return `${label}-${randomBytes(3).toString('hex')}`;
}

export interface AuthEnvironment {
  database: Disposable;
  vhost: Vhost;
  /** SQL on the service database (assertions and fixtures). */
  sql: Client;
  /** A bus client on the test vhost, acting as another service. */
  bus: BusClient;
  /** Raw broker access for listening to events. */
  broker: ChannelModel;
  drop(): Promise<void>;
}

/** A fresh database (migrated with the service's own migrations), a fresh vhost, a SQL client and a bus client. */
export async function createEnvironment(label: string): Promise<AuthEnvironment> {
  const database = await freshDatabase(label);
  const vhost = await freshVhost(label);
  await runMigrations(postgresDataSourceOptions({ ...AUTH_DATABASE, url: database.ownerUrl }), {
    logger: createLogger({ service: 'auth-test', level: 'silent' }),
  });
  // Fixtures and assertions as the owner (it bypasses Row-Level Security); the service runs as the runtime role.
  const sql = new Client({ connectionString: database.ownerUrl });
  await sql.connect();
  const bus = new BusClient({ url: vhost.url, service: 'auth-test' });
  const broker = await connect(vhost.url);
  return {
    database,
    vhost,
    sql,
    bus,
    broker,
    drop: async () => {
      await bus.close().catch(() => undefined);
      await broker.close().catch(() => undefined);
      await sql.end().catch(() => undefined);
      await vhost.drop();
      await database.drop();
    },
  };
}

export interface RunningAuth {
  app: NestFastifyApplication;
  config: AuthConfig;
  url: string;
  close(): Promise<void>;
}

/** Boots the real service (bootstrapService + AppModule + bus consumer) on a free port. */
export async function startAuth(env: AuthEnvironment, overrides: Record<string, string> = {}): Promise<RunningAuth> {
  const config = loadAuthConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    DATABASE_URL: env.database.appUrl,
    REDIS_URL: process.env.RF_TEST_REDIS_URL,
    AMQP_URL: env.vhost.url,
    AUTH_KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
    // The cheapest argon2 settings the config allows: the tests check behaviour, not hashing cost.
    ARGON2_MEMORY_KIB: '8192',
    ARGON2_TIME_COST: '1',
    // Every test file logs in from 127.0.0.1 against one shared Redis: the seed's 5 attempts per 15 minutes per IP
    // would throttle the whole suite. Tests of that limit set it back and send X-Forwarded-For (loopback is trusted).
    LOGIN_RATE_LIMIT_MAX_PER_IP: '100000',
    ...overrides,
  });
  const app = await bootstrapService({ name: 'auth', module: AppModule, config, bus: busOf, handleSignals: false });
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, config, url, close: () => app.close() };
}

export const TEST_KEY_ENCRYPTION_KEY = randomBytes(32).toString('base64');

/** A small HTTP client for one running service. */
export class Http {
  constructor(private readonly baseUrl: string) {}

  async request(
    method: string,
    path: string,
    options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: Json; headers: Headers }> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const response = await fetch(`${this.baseUrl}/api/v1/auth${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
  }

  post(path: string, body: unknown, token?: string) {
    return this.request('POST', path, { body, token });
  }

  get(path: string, token?: string) {
    return this.request('GET', path, { token });
  }
}

/** Collects the events of `routingKey` published on the test vhost. */
export class EventListener {
  readonly messages: ConsumeMessage[] = [];

  private constructor(private readonly channel: Channel) {}

  static async listen(broker: ChannelModel, routingKey: string): Promise<EventListener> {
    const channel = await broker.createChannel();
    await channel.assertExchange(BUS_EXCHANGE, BUS_EXCHANGE_TYPE, { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    await channel.bindQueue(queue, BUS_EXCHANGE, routingKey);
    const listener = new EventListener(channel);
    await channel.consume(queue, (message) => message && listener.messages.push(message), { noAck: true });
    return listener;
  }

  bodies(): Json[] {
    return this.messages.map((message) => JSON.parse(message.content.toString('utf8')));
  }

  async close(): Promise<void> {
    await this.channel.close().catch(() => undefined);
  }
}

/** Polls `check` until it returns a truthy value or the time is up. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`Condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Inserts an organisation directly (HTTP tests do not need the bus command for their fixtures). */
export async function insertOrganisation(
  sql: Client,
  id: string,
  options: { registration?: 'open' | 'invite'; suspended?: boolean; displayName?: string } = {},
): Promise<void> {
  await sql.query(
    'INSERT INTO organisations (id, display_name, registration, suspended) VALUES ($1, $2, $3, $4)',
    [id, options.displayName ?? `Org ${id}`, options.registration ?? 'open', options.suspended ?? false],
  );
}
