import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { ensureDir, loadSecrets, PORTS, STATE_DIR } from './config';
import { isPortOpen, mustRun, run, waitFor } from './process';

const dir = () => join(STATE_DIR, 'redis');
const pidFile = () => join(dir(), 'redis.pid');
const logFile = () => join(STATE_DIR, 'logs', 'redis.log');

/** The admin URL (the `default` user). Tenants get their own ACL users later (operator issue). */
export function redisAdminUrl(db = 0): string {
  return `redis://default:${encodeURIComponent(loadSecrets().redisPassword)}@127.0.0.1:${PORTS.redis}/${db}`;
}

async function canPing(): Promise<boolean> {
  const client = new Redis(redisAdminUrl(), { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export async function ensureRedis(_log: (msg: string) => void): Promise<void> {
  if (await isPortOpen(PORTS.redis)) {
    if (await canPing()) return;
    throw new Error(`Port ${PORTS.redis} is taken by a Redis we cannot log in to. Stop it, or set RF_REDIS_PORT.`);
  }
  ensureDir(dir());
  ensureDir(join(STATE_DIR, 'logs'));
  const conf = [
    `bind 127.0.0.1`,
    `port ${PORTS.redis}`,
    `dir ${dir()}`,
    `daemonize yes`,
    `pidfile ${pidFile()}`,
    `logfile ${logFile()}`,
    `appendonly yes`,
    `appendfsync everysec`,
    // ACL users (tenants' users come from the operator) live in this file so they survive restarts.
    `aclfile ${join(dir(), 'users.acl')}`,
  ].join('\n');
  writeFileSync(join(dir(), 'redis.conf'), `${conf}\n`, { mode: 0o600 });
  const aclFile = join(dir(), 'users.acl');
  const defaultUser = `user default on #${sha256(loadSecrets().redisPassword)} ~* &* +@all`;
  if (!existsSync(aclFile)) {
    writeFileSync(aclFile, `${defaultUser}\n`, { mode: 0o600 });
  } else {
    const others = readFileSync(aclFile, 'utf8').split('\n').filter((l) => l && !l.startsWith('user default '));
    writeFileSync(aclFile, [defaultUser, ...others].join('\n') + '\n', { mode: 0o600 });
  }
  mustRun('redis-server', [join(dir(), 'redis.conf')]);
  await waitFor('Redis to answer PING', canPing, 20_000, `See ${logFile()}.`);
}

function sha256(value: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('node:crypto') as typeof import('node:crypto')).createHash('sha256').update(value).digest('hex');
}

export function stopRedis(): void {
  if (!existsSync(pidFile())) return;
  const pid = Number(readFileSync(pidFile(), 'utf8').trim());
  if (pid > 0) run('kill', ['-TERM', String(pid)]);
}
