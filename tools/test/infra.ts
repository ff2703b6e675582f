import { randomBytes } from 'node:crypto';
import { deleteVhost, dropDatabase, ensureServiceDatabase, ensureVhost, restartRabbitMq as restart } from '../infra';
import Redis from 'ioredis';

/** A short unique suffix: test databases and vhosts never collide between files or runs. */
function unique(label: string): string {
  const safe = label.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 20);
  return `t_${safe}_${randomBytes(4).toString('hex')}`;
}

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the tests through jest with the repo's preset (tools/test/global-setup.ts).`);
  }
  return value;
}

export interface Disposable<T> {
  url: string;
  name: string;
  drop(): Promise<void>;
  extra?: T;
}

/** A service database as production has it: an owner role for migrations and fixtures, a runtime role for the service. */
export interface FreshDatabase extends Disposable<never> {
  /**
   * The owner role's URL (the same as `ownerUrl`): run migrations and insert fixtures with it. Kept as `url` so
   * that callers written before the runtime role existed keep working.
   */
  url: string;
  /** The owner role's URL: owns the database and every table, runs migrations, bypasses Row-Level Security. */
  ownerUrl: string;
  ownerRole: string;
  /** The runtime role's URL: what a service's DATABASE_URL is (owns nothing, cannot bypass Row-Level Security). */
  appUrl: string;
  appRole: string;
}

/**
 * A new, empty database with its two new login roles (tools/infra/postgres.ts `ensureServiceDatabase`); `drop()`
 * removes all three. Migrate with `ownerUrl` (or `url`), start the service with `appUrl`.
 */
export async function freshDatabase(label: string): Promise<FreshDatabase> {
  const adminUrl = requireEnv('RF_TEST_PG_URL');
  const name = unique(label);
  const ownerRole = name;
  const appRole = `${name}_app`;
  const { ownerUrl, appUrl } = await ensureServiceDatabase(
    name,
    { role: ownerRole, password: randomBytes(12).toString('hex') },
    { role: appRole, password: randomBytes(12).toString('hex') },
    adminUrl,
  );
  return { url: ownerUrl, ownerUrl, ownerRole, appUrl, appRole, name, drop: () => dropDatabase(name, [appRole, ownerRole], adminUrl) };
}

/** A new vhost for this test file; `drop()` deletes it with every queue in it. */
export async function freshVhost(label: string): Promise<Disposable<never>> {
  requireEnv('RF_TEST_AMQP_URL');
  const name = unique(label);
  const url = await ensureVhost(name);
  return { url, name, drop: () => deleteVhost(name) };
}

/** A Redis client on the test server with a unique key prefix; `drop()` deletes the prefix's keys. */
export async function freshRedisPrefix(label: string): Promise<{ url: string; prefix: string; drop(): Promise<void> }> {
  const url = requireEnv('RF_TEST_REDIS_URL');
  const prefix = `${unique(label)}:`;
  return {
    url,
    prefix,
    drop: async () => {
      const client = new Redis(url);
      try {
        let cursor = '0';
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
          cursor = next;
          if (keys.length) await client.del(...keys);
        } while (cursor !== '0');
      } finally {
        client.disconnect();
      }
    },
  };
}

/** Restarts the broker application (connections drop, durable queues survive), local or in a container. */
export async function restartRabbitMq(): Promise<void> {
  const container = process.env.RF_TEST_RABBIT_CONTAINER;
  if (!container) return restart();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
  execFileSync('docker', ['exec', container, 'rabbitmqctl', 'stop_app']);
  execFileSync('docker', ['exec', container, 'rabbitmqctl', 'start_app']);
  execFileSync('docker', ['exec', container, 'rabbitmqctl', 'await_startup']);
}
