import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir, loadSecrets, PORTS, STATE_DIR } from './config';
import { isPortOpen, run, spawnDetached, waitFor } from './process';

export const RABBIT_ADMIN = 'rallyforge';
const RABBIT_BIN = '/usr/lib/rabbitmq/bin';
const base = () => join(STATE_DIR, 'rabbitmq');

/**
 * Everything RabbitMQ reads or writes is pointed into .rabbitmq/ by environment variables (mnesia, logs,
 * config, plugins, and HOME for the Erlang cookie), so the machine's own /etc/rabbitmq is never used.
 */
export function rabbitEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    HOME: base(),
    RABBITMQ_NODENAME: process.env.RF_RABBIT_NODENAME ?? 'rallyforge@localhost',
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(PORTS.amqp),
    RABBITMQ_DIST_PORT: String(PORTS.rabbitDist),
    RABBITMQ_MNESIA_BASE: join(base(), 'mnesia'),
    RABBITMQ_LOG_BASE: join(STATE_DIR, 'logs', 'rabbitmq'),
    RABBITMQ_CONFIG_FILE: join(base(), 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(base(), 'advanced.config'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(base(), 'enabled_plugins'),
    RABBITMQ_PID_FILE: join(base(), 'rabbitmq.pid'),
    RABBITMQ_CONF_ENV_FILE: join(base(), 'rabbitmq-env.conf'),
  };
}

export function amqpUrl(vhost = '/'): string {
  const { rabbitPassword } = loadSecrets();
  return `amqp://${RABBIT_ADMIN}:${encodeURIComponent(rabbitPassword)}@127.0.0.1:${PORTS.amqp}/${encodeURIComponent(vhost)}`;
}

export function managementUrl(): string {
  return `http://127.0.0.1:${PORTS.rabbitManagement}`;
}

function managementAuth(): string {
  return 'Basic ' + Buffer.from(`${RABBIT_ADMIN}:${loadSecrets().rabbitPassword}`).toString('base64');
}

/**
 * Calls the management HTTP API as the admin user: the local broker's, or the one in RF_TEST_RABBIT_MGMT_URL
 * (user:password@host:port) when tests run against containers.
 */
export async function management(method: string, path: string, body?: unknown): Promise<Response> {
  let base = managementUrl();
  let authorization = managementAuth();
  const override = process.env.RF_TEST_RABBIT_MGMT_URL;
  if (override) {
    const u = new URL(override);
    base = `${u.protocol}//${u.host}`;
    authorization = 'Basic ' + Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
  }
  return fetch(`${base}/api${path}`, {
    method,
    headers: { authorization, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
}

async function managementReady(): Promise<boolean> {
  try {
    const res = await management('GET', '/overview');
    return res.ok;
  } catch {
    return false;
  }
}

export function rabbitctl(args: string[]): { status: number; stdout: string; stderr: string } {
  return run(join(RABBIT_BIN, 'rabbitmqctl'), args, { env: rabbitEnv() });
}

function writeConfig(): void {
  const { rabbitPassword } = loadSecrets();
  ensureDir(base());
  ensureDir(join(STATE_DIR, 'logs', 'rabbitmq'));
  const conf = [
    `listeners.tcp.default = 127.0.0.1:${PORTS.amqp}`,
    `management.tcp.ip = 127.0.0.1`,
    `management.tcp.port = ${PORTS.rabbitManagement}`,
    `default_user = ${RABBIT_ADMIN}`,
    `default_pass = ${rabbitPassword}`,
    `default_user_tags.administrator = true`,
    `default_permissions.configure = .*`,
    `default_permissions.read = .*`,
    `default_permissions.write = .*`,
    `disk_free_limit.absolute = 200MB`,
    `log.console = false`,
    `log.file.level = info`,
  ].join('\n');
  writeFileSync(join(base(), 'rabbitmq.conf'), `${conf}\n`, { mode: 0o600 });
  writeFileSync(join(base(), 'enabled_plugins'), '[rabbitmq_management].\n');
  writeFileSync(join(base(), 'rabbitmq-env.conf'), '');
  if (!existsSync(join(base(), 'advanced.config'))) writeFileSync(join(base(), 'advanced.config'), '[].\n');
}

/** Starts RabbitMQ (with the management plugin) from .rallyforge/rabbitmq; a no-op when it already runs. */
export async function ensureRabbitMq(log: (msg: string) => void): Promise<void> {
  if (await isPortOpen(PORTS.amqp)) {
    await waitFor('the RabbitMQ management API', managementReady, 60_000, 'Is another RabbitMQ using this port?');
    return;
  }
  writeConfig();
  log('starting RabbitMQ');
  spawnDetached(join(RABBIT_BIN, 'rabbitmq-server'), [], join(STATE_DIR, 'logs', 'rabbitmq-server.out'), rabbitEnv());
  await waitFor('RabbitMQ to accept AMQP connections', () => isPortOpen(PORTS.amqp), 120_000,
    `See ${join(STATE_DIR, 'logs', 'rabbitmq')}.`);
  await waitFor('the RabbitMQ management API', managementReady, 60_000);
}

/** Restarts the broker application in place (connections drop, durable queues survive): used by resilience tests. */
export async function restartRabbitMq(): Promise<void> {
  const stop = rabbitctl(['stop_app']);
  if (stop.status !== 0) throw new Error(`rabbitmqctl stop_app failed: ${stop.stderr}`);
  const start = rabbitctl(['start_app']);
  if (start.status !== 0) throw new Error(`rabbitmqctl start_app failed: ${start.stderr}`);
  await waitFor('RabbitMQ to come back', () => isPortOpen(PORTS.amqp), 60_000);
  await waitFor('the RabbitMQ management API', managementReady, 60_000);
}

export function stopRabbitMq(): void {
  rabbitctl(['stop']);
}

/** Creates a vhost and gives the admin full rights on it (idempotent); returns its AMQP URL. */
export async function ensureVhost(vhost: string): Promise<string> {
  const path = encodeURIComponent(vhost);
  let res = await management('PUT', `/vhosts/${path}`, { description: 'RallyForge', default_queue_type: 'quorum' });
  if (!res.ok) throw new Error(`Creating vhost ${vhost} failed: ${res.status} ${await res.text()}`);
  res = await management('PUT', `/permissions/${path}/${RABBIT_ADMIN}`, { configure: '.*', write: '.*', read: '.*' });
  if (!res.ok) throw new Error(`Granting ${RABBIT_ADMIN} on ${vhost} failed: ${res.status} ${await res.text()}`);
  const override = process.env.RF_TEST_AMQP_URL;
  if (override) {
    const u = new URL(override);
    u.pathname = `/${encodeURIComponent(vhost)}`;
    return u.toString();
  }
  return amqpUrl(vhost);
}

export async function deleteVhost(vhost: string): Promise<void> {
  const res = await management('DELETE', `/vhosts/${encodeURIComponent(vhost)}`);
  if (!res.ok && res.status !== 404) throw new Error(`Deleting vhost ${vhost} failed: ${res.status}`);
}
