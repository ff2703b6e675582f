import { randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { Client } from 'pg';
import Redis from 'ioredis';
import { generatePasswords, type TenantPasswords } from '../../../src/tenant/credentials';
import type { TenantTarget } from '../../../src/tenant/layers';
import type { ExternalSystemsConfig } from '../../../src/tenant/external';

/**
 * The real PostgreSQL, Redis and RabbitMQ for the external-layer specs. The operator's jest config skips the
 * services' global setup, so this does what tools/test/global-setup.ts does (local Debian-packaged servers, or
 * throwaway containers where a Docker engine answers) unless a global setup already exported the servers' URLs.
 */
export interface ExternalTestEnv {
  config: ExternalSystemsConfig;
  pgAdminUrl: string;
  redisAdminUrl: string;
  management(method: string, path: string, body?: unknown): Promise<Response>;
  /** A database for the shared tier's checks (the "platform" database); dropped by `close()`. */
  createPlatformDatabase(): Promise<string>;
  /** A vhost for the shared tier's checks; deleted by `close()`. */
  createPlatformVhost(): Promise<string>;
  /** Runs SQL as the admin in `database`. */
  sql<T extends Record<string, unknown> = Record<string, unknown>>(database: string, text: string, values?: unknown[]): Promise<T[]>;
  redis(): Redis;
  close(): Promise<void>;
}

export async function startExternalTestEnv(): Promise<ExternalTestEnv> {
  let teardown: (() => Promise<void>) | undefined;
  if (!process.env.RF_TEST_PG_URL) {
    const { default: globalSetup } = await import('@rallyforge/tools/test/global-setup');
    await globalSetup();
    const { default: globalTeardown } = await import('@rallyforge/tools/test/global-teardown');
    teardown = globalTeardown;
  }
  const pgAdminUrl = required('RF_TEST_PG_URL');
  const redisAdminUrl = required('RF_TEST_REDIS_URL');
  const amqp = new URL(required('RF_TEST_AMQP_URL'));
  const mgmt = new URL(required('RF_TEST_RABBIT_MGMT_URL'));
  const adminUser = decodeURIComponent(mgmt.username);
  const adminPassword = decodeURIComponent(mgmt.password);
  const managementUrl = `${mgmt.protocol}//${mgmt.host}`;
  const amqpBase = `${amqp.protocol}//${amqp.host}`;
  const pg = new URL(pgAdminUrl);
  const redisUrl = new URL(redisAdminUrl);

  const config: ExternalSystemsConfig = {
    postgres: { adminUrl: pgAdminUrl, tenantUrl: `postgres://${pg.host}`, platformDatabases: [] },
    rabbitmq: { managementUrl, adminUser, adminPassword, amqpUrl: amqpBase, tenantUrl: amqpBase, platformVhost: '' },
    redis: { adminUrl: redisAdminUrl, tenantUrl: `redis://${redisUrl.host}${redisUrl.pathname}` },
    connectTimeoutMs: 5_000,
    requestTimeoutMs: 15_000,
  };
  const authorization = `Basic ${Buffer.from(`${adminUser}:${adminPassword}`).toString('base64')}`;
  const management = (method: string, path: string, body?: unknown) =>
    fetch(`${managementUrl}/api${path}`, {
      method,
      headers: { authorization, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  const sql = async <T extends Record<string, unknown>>(database: string, text: string, values?: unknown[]) => {
    const url = new URL(pgAdminUrl);
    url.pathname = `/${database}`;
    const client = new Client({ connectionString: url.toString() });
    await client.connect();
    try {
      return (await client.query<T>(text, values)).rows;
    } finally {
      await client.end();
    }
  };
  const databases: string[] = [];
  const vhosts: string[] = [];
  const clients: Redis[] = [];
  return {
    config,
    pgAdminUrl,
    redisAdminUrl,
    management,
    sql,
    async createPlatformDatabase() {
      const name = `rfx_platform_${randomBytes(4).toString('hex')}`;
      await sql('postgres', `CREATE DATABASE ${name}`);
      await sql('postgres', `REVOKE ALL ON DATABASE ${name} FROM PUBLIC`);
      databases.push(name);
      return name;
    },
    async createPlatformVhost() {
      const name = `rfx-platform-${randomBytes(4).toString('hex')}`;
      const res = await management('PUT', `/vhosts/${name}`, { description: 'external-layer spec' });
      if (!res.ok) throw new Error(`creating vhost ${name}: ${res.status}`);
      vhosts.push(name);
      return name;
    },
    redis() {
      const client = new Redis(redisAdminUrl, { maxRetriesPerRequest: 1 });
      clients.push(client);
      return client;
    },
    async close() {
      for (const name of databases) await sql('postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      for (const name of vhosts) await management('DELETE', `/vhosts/${name}`).catch(() => undefined);
      for (const client of clients) client.disconnect();
      await teardown?.();
    },
  };
}

/**
 * A server that accepts TCP connections and never says a word, as a hung database or a black-holed network path
 * looks to a client: only a connect timeout gets it out.
 */
export async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('silent server has no port');
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A tenant id no other run uses: `t-<8 hex>` plus an optional suffix. */
export function uniqueTenantId(suffix = ''): string {
  return `t-${randomBytes(4).toString('hex')}${suffix ? `-${suffix}` : ''}`;
}

export function dedicated(tenantId: string, suspended = false): TenantTarget {
  return { tenantId, tier: 'dedicated', suspended };
}

export function shared(tenantId: string): TenantTarget {
  return { tenantId, tier: 'shared', suspended: false };
}

export function passwords(): TenantPasswords {
  return generatePasswords();
}

/** Resolves with the error a promise rejects with (fails the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error & { reason?: string; code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { reason?: string };
  }
  throw new Error('expected the call to fail, and it succeeded');
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set after the test infrastructure's global setup`);
  return value;
}
