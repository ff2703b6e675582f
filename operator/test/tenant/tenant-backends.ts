/**
 * What the tenant specs look at to assert real state: the tenant's Secret, the PostgreSQL catalog, the RabbitMQ
 * management API and Redis as their admins see them, and logins with a tenant's own connection strings.
 */
import { createServer } from 'node:net';
import * as amqp from 'amqplib';
import Redis from 'ioredis';
import { Client } from 'pg';
import { NAMESPACES, ResourceClient, SECRETS, type KubeObject } from '../../src/controller-core';
import { decodeSecretData } from '../../src/tenant/credentials';
import { CREDENTIALS_SECRET, tenantNamespace } from '../../src/tenant/tenant-objects';
import type { TenantHarness } from './tenant-harness';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = KubeObject & Record<string, any>;

/** The four data services with a database of their own in the dedicated tier. */
export const DATA_SERVICES = ['auth', 'claims', 'payments', 'documents'] as const;

export class TenantBackends {
  private readonly redisClients: Redis[] = [];

  private constructor(private readonly harness: TenantHarness) {}

  static create(harness: TenantHarness): TenantBackends {
    return new TenantBackends(harness);
  }

  namespaceOf(id: string): string {
    return tenantNamespace(id, this.harness.settings);
  }

  /** The tenant's credentials Secret, decoded (undefined when there is none). */
  async secret(id: string): Promise<Record<string, string> | undefined> {
    const secret = await new ResourceClient<Loose>(this.harness.cluster.client, SECRETS).find(CREDENTIALS_SECRET, this.namespaceOf(id));
    return secret ? decodeSecretData(secret.data) : undefined;
  }

  async namespace(id: string): Promise<Loose | undefined> {
    return new ResourceClient<Loose>(this.harness.cluster.client, NAMESPACES).find(this.namespaceOf(id));
  }

  /** SQL as the PostgreSQL admin, in `database`. */
  async sql<T extends Record<string, unknown> = Record<string, unknown>>(database: string, text: string, values?: unknown[]): Promise<T[]> {
    const url = new URL(this.harness.externalConfig.postgres.adminUrl);
    url.pathname = `/${database}`;
    const client = new Client({ connectionString: url.toString(), connectionTimeoutMillis: 5_000 });
    await client.connect();
    try {
      return (await client.query<T>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  /** The tenant's databases and roles (`rf_<id>_…`), as the catalog has them. */
  async postgresObjects(id: string): Promise<{ databases: string[]; roles: Array<{ name: string; login: boolean }> }> {
    const prefix = `rf_${id.replace(/-/g, '_')}_`;
    const like = `${prefix.replace(/_/g, '\\_')}%`;
    const databases = await this.sql<{ datname: string }>('postgres', 'select datname from pg_database where datname like $1 order by 1', [like]);
    const roles = await this.sql<{ rolname: string; rolcanlogin: boolean }>('postgres', 'select rolname, rolcanlogin from pg_roles where rolname like $1 order by 1', [like]);
    return { databases: databases.map((d) => d.datname), roles: roles.map((r) => ({ name: r.rolname, login: r.rolcanlogin })) };
  }

  /** The RabbitMQ management API as the admin; 404 is undefined. */
  async management<T = unknown>(method: string, path: string, body?: unknown): Promise<T | undefined> {
    const { managementUrl, adminUser, adminPassword } = this.harness.externalConfig.rabbitmq;
    const response = await fetch(`${managementUrl}/api${path}`, {
      method,
      headers: { authorization: `Basic ${Buffer.from(`${adminUser}:${adminPassword}`).toString('base64')}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    if (response.status === 404) return undefined;
    if (!response.ok) throw new Error(`${method} /api${path}: ${response.status} ${await response.text()}`);
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** The vhosts and users named after the tenant (`rf-<id>`). */
  async rabbitObjects(id: string): Promise<{ vhosts: string[]; users: string[] }> {
    const name = `rf-${id}`;
    const vhosts = (await this.management<Array<{ name: string }>>('GET', '/vhosts')) ?? [];
    const users = (await this.management<Array<{ name: string }>>('GET', '/users')) ?? [];
    return { vhosts: vhosts.map((v) => v.name).filter((v) => v.startsWith(name)), users: users.map((u) => u.name).filter((u) => u.startsWith(name)) };
  }

  /** A Redis client as the admin (closed by close()). */
  redisAdmin(): Redis {
    return this.track(new Redis(this.harness.externalConfig.redis.adminUrl, { maxRetriesPerRequest: 1, lazyConnect: false }));
  }

  /** The Redis ACL users named after the tenant. */
  async redisUsers(id: string): Promise<string[]> {
    const users = (await this.redisAdmin().call('ACL', 'USERS')) as string[];
    return users.filter((u) => u.startsWith(`rf-${id}`));
  }

  /** Logs in with a tenant's connection string; rejects with the server's refusal. */
  async postgres(url: string): Promise<Client> {
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return client;
  }

  async amqp(url: string): Promise<amqp.ChannelModel> {
    const connection = await amqp.connect(url, { timeout: 5_000 });
    connection.on('error', () => undefined);
    return connection;
  }

  /** A client logged in with a tenant's REDIS_URL; a refused AUTH rejects (ioredis reports it as an 'error' event). */
  async redis(url: string): Promise<Redis> {
    const client = this.track(new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableReadyCheck: false }));
    let reported: Error | undefined;
    client.on('error', (error: Error) => {
      reported ??= error;
    });
    try {
      await client.connect();
      await client.ping(); // a refused AUTH may only show on the first command
    } catch (error) {
      throw reported ?? error;
    }
    return client;
  }

  async close(): Promise<void> {
    // An ended client must not be disconnected again: ioredis would wait for a close event that already came.
    for (const client of this.redisClients) if (client.status !== 'end') client.disconnect();
  }

  private track(client: Redis): Redis {
    client.on('error', () => undefined);
    this.redisClients.push(client);
    return client;
  }
}

/** A TCP port nothing listens on (bound, then released): a server that is down refuses connections on it. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Resolves with the error a promise rejects with; fails when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected the call to fail, and it succeeded');
}

/** Connects with a tenant URL, runs `work`, closes. */
export async function withPostgres<T>(backends: TenantBackends, url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = await backends.postgres(url);
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
