import Redis, { type RedisOptions } from 'ioredis';
import { errorMessage, silentLogger, type Logger } from '../../controller-core/logger';
import type { TenantPasswords } from '../credentials';
import type { ExternalLayer, TenantTarget } from '../layers';
import { abortable, deadline, SharedCheck } from './abort';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS } from './external-systems.config';
import { redisPasswordHash } from './password-verifiers';
import { describeCause, ProvisionError } from './provision-error';
import { tenantRedisPrefix, tenantRedisUser } from './tenant-names';

export interface RedisProvisionerOptions {
  /** redis(s)://user:password@host:port/db of an admin. */
  adminUrl: string;
  /** Base of the tenants' REDIS_URL (no credentials). */
  tenantUrl: string;
  /** @default 5000 */
  connectTimeoutMs?: number;
  /** @default 15000 */
  requestTimeoutMs?: number;
  /** How long one shared-tier check serves every shared tenant. @default 10000 */
  sharedCheckTtlMs?: number;
  logger?: Logger;
}

/**
 * What a tenant's ACL user may not run although `+@all -@admin -@dangerous` would allow it, because the command
 * looks at the whole server rather than at keys or channels the ACL confines:
 * - SCAN and RANDOMKEY walk every key (key patterns don't apply to them), so they would list other tenants' keys;
 * - PUBSUB lists every active channel; client-side tracking in BCAST mode reports other prefixes' key names;
 * - SCRIPT and FUNCTION change the server-wide script cache and function libraries;
 * - MEMORY reports on the server as a whole.
 * `-@dangerous` already removes KEYS, FLUSHALL/FLUSHDB, CONFIG, ACL's admin subcommands, CLIENT LIST/KILL,
 * MONITOR, SLOWLOG, SORT, MIGRATE, RESTORE, SWAPDB, DEBUG, SAVE. INFO is given back: it reports aggregates only,
 * and ioredis runs it as its ready check on every connection.
 */
export const TENANT_COMMAND_RULES: readonly string[] = [
  '+@all', '-@admin', '-@dangerous', '+info',
  '-scan', '-randomkey', '-pubsub', '-script', '-function', '-memory',
  '-client|tracking', '-client|trackinginfo', '-client|getredir', '-client|caching',
];

/** A key outside every tenant prefix, read by the verification to prove the tenant is refused it. */
const FOREIGN_PROBE_KEY = 'rf:operator:isolation-probe';
const FOREIGN_PROBE_CHANNEL = 'rf:operator:isolation-probe';
const SCAN_BATCH = 1000;
const DEFAULT_SHARED_CHECK_TTL_MS = 10_000;

/** The tenant's ACL rules, in the order ACL SETUSER applies them. */
export function tenantAclRules(tenantId: string, password: string, enabled: boolean): string[] {
  const prefix = tenantRedisPrefix(tenantId);
  return ['reset', enabled ? 'on' : 'off', `>${password}`, `~${prefix}*`, `&${prefix}*`, ...TENANT_COMMAND_RULES];
}

interface AclUser {
  flags: string[];
  passwords: string[];
  commands: string;
  keys: string;
  channels: string;
  selectors: unknown[];
}

/**
 * Redis for one tenant. Dedicated tier: an ACL user `rf-<id>` confined to keys `t:<id>:*` and channels `t:<id>:*`.
 * Shared tier: nothing per tenant (the services prefix keys and channels with `t:<id>:`); the server must answer.
 * Either way `remove` deletes the tenant's keys.
 *
 * ACL users live in the server's memory. With an `aclfile` (as tools/infra/redis.ts configures locally) the
 * operator saves them there after each change; without one they vanish on a restart and the periodic resync
 * (`ensure`) creates them again.
 */
export class RedisProvisioner implements ExternalLayer {
  readonly condition = 'Cache' as const;
  readonly system = 'Redis';

  private readonly admin: Redis;
  private readonly connectTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly sharedCheck: SharedCheck;
  private readonly logger: Logger;
  /** How this server renders TENANT_COMMAND_RULES in ACL GETUSER, learned from the last write. */
  private renderedCommands?: string;
  /** False once ACL SAVE reported that the server has no aclfile. */
  private aclFile = true;
  private reportedDown = false;

  static create(options: RedisProvisionerOptions): RedisProvisioner {
    return new RedisProvisioner(options);
  }

  private constructor(private readonly options: RedisProvisionerOptions) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.sharedCheck = new SharedCheck(options.sharedCheckTtlMs ?? DEFAULT_SHARED_CHECK_TTL_MS);
    this.logger = options.logger ?? silentLogger;
    this.admin = new Redis(options.adminUrl, {
      lazyConnect: true,
      connectionName: 'rallyforge-operator',
      connectTimeout: this.connectTimeoutMs,
      commandTimeout: this.requestTimeoutMs,
      // A command waits for at most one reconnect: a down server fails the reconcile in seconds, not minutes.
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    });
    this.admin.on('error', (error: Error) => {
      if (!this.reportedDown) this.logger.warn('Redis admin connection failed', { error: describeCause(error) });
      this.reportedDown = true;
    });
    this.admin.on('ready', () => {
      this.reportedDown = false;
    });
  }

  async ensure(target: TenantTarget, passwords: TenantPasswords, signal?: AbortSignal): Promise<Record<string, string>> {
    if (target.tier === 'shared') return {};
    const password = requirePassword(target, passwords);
    const user = tenantRedisUser(target.tenantId);
    await this.withAdmin('provisioning the tenant ACL user', signal, async () => {
      const drift = this.drift(await this.getUser(user), target, password, 'ensure');
      if (drift.length) {
        await this.admin.call('ACL', 'SETUSER', user, ...tenantAclRules(target.tenantId, password, !target.suspended));
        this.renderedCommands = (await this.getUser(user))?.commands;
        await this.saveAcl();
        this.logger.info('Repaired Redis ACL user', { tenant: target.tenantId, user, drift });
      }
      if (target.suspended) await this.killClients(user);
    });
    const url = new URL(this.options.tenantUrl);
    url.username = encodeURIComponent(user);
    url.password = encodeURIComponent(password);
    return { REDIS_URL: url.toString() };
  }

  async verify(target: TenantTarget, passwords: TenantPasswords, signal?: AbortSignal): Promise<void> {
    if (target.tier === 'shared') {
      await this.sharedCheck.run(() => this.withAdmin('checking the platform Redis', undefined, () => this.ping()), signal);
      return;
    }
    const password = requirePassword(target, passwords);
    const user = tenantRedisUser(target.tenantId);
    const acl = await this.withAdmin('checking the tenant ACL user', signal, () => this.getUser(user));
    if (!acl) {
      throw new ProvisionError(
        'RedisAclUserMissing',
        `Redis has no ACL user ${user} (deleted, or the server restarted without an aclfile); the operator creates it ` +
          'again on its next resync.',
      );
    }
    const drift = this.drift(acl, target, password, 'verify');
    if (drift.length) {
      throw new ProvisionError(
        drift.some((d) => d.startsWith('password')) && drift.length === 1 ? 'RedisPasswordDrift' : 'RedisAclDrift',
        `Redis ACL user ${user} is not as the tenant needs it: ${drift.join('; ')}. The operator repairs it on its next resync.`,
      );
    }
    if (target.suspended) return; // the observation proved the user is off
    await abortable(this.probeAsTenant(target.tenantId, password), signal);
  }

  async retain(target: TenantTarget, signal?: AbortSignal): Promise<void> {
    if (target.tier === 'shared') return; // keys stay; the services refuse the locked organisation
    const user = tenantRedisUser(target.tenantId);
    await this.withAdmin('disabling the tenant ACL user', signal, async () => {
      const acl = await this.getUser(user);
      if (!acl) return; // no user, no login
      if (acl.flags.includes('on')) {
        await this.admin.call('ACL', 'SETUSER', user, 'off');
        await this.saveAcl();
      }
      await this.killClients(user);
    });
    this.logger.info('Disabled Redis ACL user', { tenant: target.tenantId, user });
  }

  async remove(target: TenantTarget, signal?: AbortSignal): Promise<void> {
    const user = tenantRedisUser(target.tenantId);
    const prefix = tenantRedisPrefix(target.tenantId);
    let deleted = 0;
    await this.withAdmin("removing the tenant's ACL user and keys", signal, async () => {
      // DELUSER also disconnects the user's clients.
      if ((await this.admin.call('ACL', 'DELUSER', user)) !== 0) await this.saveAcl();
      let cursor = '0';
      do {
        signal?.throwIfAborted();
        const [next, keys] = await this.admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', SCAN_BATCH);
        cursor = next;
        if (keys.length) deleted += await this.admin.unlink(...keys);
      } while (cursor !== '0');
    });
    this.logger.info('Removed Redis ACL user and keys', { tenant: target.tenantId, user, keys: deleted });
  }

  async close(): Promise<void> {
    if (this.admin.status === 'end') return;
    if (this.admin.status !== 'ready') {
      this.admin.disconnect(); // also stops reconnecting to a server that is down
      return;
    }
    await abortable(this.admin.quit(), AbortSignal.timeout(this.connectTimeoutMs)).catch(() => undefined);
    this.admin.disconnect();
  }

  /** What differs between the live ACL user and the wanted one (empty: nothing to do). */
  private drift(acl: AclUser | undefined, target: TenantTarget, password: string, mode: 'ensure' | 'verify'): string[] {
    if (!acl) return ['missing'];
    const prefix = tenantRedisPrefix(target.tenantId);
    const drift: string[] = [];
    const on = acl.flags.includes('on');
    if (on === target.suspended) drift.push(target.suspended ? 'enabled although the tenant is suspended' : 'disabled');
    if (acl.flags.includes('nopass')) drift.push('accepts any password (nopass)');
    if (acl.passwords.length !== 1 || acl.passwords[0] !== redisPasswordHash(password)) {
      drift.push(`password differs from the credentials Secret${acl.passwords.length > 1 ? ` (${acl.passwords.length} passwords)` : ''}`);
    }
    if (acl.keys !== `~${prefix}*`) drift.push(`keys "${acl.keys}" (wanted "~${prefix}*")`);
    if (acl.channels !== `&${prefix}*`) drift.push(`channels "${acl.channels}" (wanted "&${prefix}*")`);
    if (acl.selectors.length) drift.push(`${acl.selectors.length} extra selector(s)`);
    // The server's rendering of the command rules is unknown until this process wrote a user: until then ensure
    // writes (once per tenant after a restart) and verify relies on its probes as the tenant.
    if (this.renderedCommands !== undefined) {
      if (acl.commands !== this.renderedCommands) drift.push(`commands "${acl.commands}"`);
    } else if (mode === 'ensure' && !drift.length) {
      drift.push('command rules not yet compared');
    }
    return drift;
  }

  private async getUser(user: string): Promise<AclUser | undefined> {
    const reply = (await this.admin.call('ACL', 'GETUSER', user)) as unknown[] | null;
    if (!reply) return undefined;
    const fields = new Map<string, unknown>();
    for (let i = 0; i + 1 < reply.length; i += 2) fields.set(String(reply[i]), reply[i + 1]);
    const text = (v: unknown) => (Array.isArray(v) ? v.join(' ') : String(v ?? ''));
    return {
      flags: (fields.get('flags') as string[] | undefined) ?? [],
      passwords: (fields.get('passwords') as string[] | undefined) ?? [],
      commands: text(fields.get('commands')),
      keys: text(fields.get('keys')),
      channels: text(fields.get('channels')),
      selectors: (fields.get('selectors') as unknown[] | undefined) ?? [],
    };
  }

  private async saveAcl(): Promise<void> {
    if (!this.aclFile) return;
    try {
      await this.admin.call('ACL', 'SAVE');
    } catch (error) {
      if (!/not configured to use an ACL file/i.test(errorMessage(error))) throw error;
      this.aclFile = false;
      this.logger.info('Redis has no aclfile: tenant ACL users are restored by the periodic resync after a restart');
    }
  }

  private async killClients(user: string): Promise<void> {
    try {
      await this.admin.call('CLIENT', 'KILL', 'USER', user);
    } catch (error) {
      if (!/No such user/i.test(errorMessage(error))) throw error;
    }
  }

  private async ping(): Promise<void> {
    const reply = await this.admin.ping();
    if (reply !== 'PONG') throw new Error(`PING answered ${reply}`);
  }

  /** Connects as the tenant: it can write and read its own keys, and is refused other keys, channels and SCAN. */
  private async probeAsTenant(tenantId: string, password: string): Promise<void> {
    const user = tenantRedisUser(tenantId);
    const prefix = tenantRedisPrefix(tenantId);
    const url = new URL(this.options.adminUrl);
    url.username = encodeURIComponent(user);
    url.password = encodeURIComponent(password);
    const options: RedisOptions = {
      lazyConnect: true,
      connectTimeout: this.connectTimeoutMs,
      commandTimeout: this.requestTimeoutMs,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      enableReadyCheck: false,
    };
    const client = new Redis(url.toString(), options);
    // A refused AUTH arrives as an 'error' event; the pending calls then only see "Connection is closed".
    let firstError: Error | undefined;
    client.on('error', (error: Error) => {
      firstError ??= error;
    });
    try {
      try {
        await client.connect();
        // ioredis may report the connection ready before a refused AUTH surfaces: the first command tells.
        await client.ping();
      } catch (thrown) {
        const error = firstError ?? thrown;
        if (/WRONGPASS|NOAUTH|disabled/i.test(errorMessage(error))) {
          throw new ProvisionError(
            'RedisLoginFailed',
            `Redis refused the tenant's login as ${user} (${describeCause(error)}). The operator sets the ACL user again on ` +
              'its next resync; if this persists, rotate the credentials.',
            { cause: error },
          );
        }
        throw this.unavailable(error, `logging in as ${user}`);
      }
      const probe = `${prefix}operator-probe`;
      await client.set(probe, '1', 'PX', 60_000);
      const read = await client.get(probe);
      await client.del(probe);
      if (read !== '1') {
        throw new ProvisionError('RedisProbeFailed', `Redis user ${user} wrote ${probe} but read back ${JSON.stringify(read)}.`);
      }
      const leaks: string[] = [];
      const refused = async (what: string, command: () => Promise<unknown>) => {
        try {
          await command();
          leaks.push(what);
        } catch (error) {
          if (!/NOPERM/.test(errorMessage(error))) throw error;
        }
      };
      await refused(`read the key ${FOREIGN_PROBE_KEY}`, () => client.get(FOREIGN_PROBE_KEY));
      await refused(`publish to the channel ${FOREIGN_PROBE_CHANNEL}`, () => client.publish(FOREIGN_PROBE_CHANNEL, 'probe'));
      await refused('list every key with SCAN', () => client.scan('0', 'COUNT', 1));
      await refused('list every key with KEYS', () => client.keys(`${prefix}*`));
      if (leaks.length) {
        throw new ProvisionError(
          'RedisIsolationBreach',
          `Redis user ${user} is not confined to ${prefix}*: it could ${leaks.join(', ')}. The operator resets its ACL ` +
            'rules on its next resync; if this persists, something else is changing them (ACL SETUSER).',
        );
      }
    } catch (error) {
      if (error instanceof ProvisionError) throw error;
      throw this.unavailable(error, `checking ACL user ${user}`);
    } finally {
      // Not once it ended: ioredis would then wait 2 s for a close event that already came.
      if (client.status !== 'end') client.disconnect();
    }
  }

  /** Runs admin commands, bounded by the request timeout and the signal; failures become ProvisionErrors. */
  private async withAdmin<T>(what: string, signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
    signal?.throwIfAborted();
    try {
      return await abortable(work(), deadline(this.requestTimeoutMs + this.connectTimeoutMs, signal));
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof ProvisionError) throw error;
      throw this.unavailable(error, what);
    }
  }

  private unavailable(error: unknown, what: string): ProvisionError {
    const message = errorMessage(error);
    const url = new URL(this.options.adminUrl);
    const address = `${url.hostname}:${url.port || '6379'}`;
    if (/NOAUTH|WRONGPASS/.test(message)) {
      return new ProvisionError('RedisAdminLoginFailed', `Redis at ${address} refused the operator's admin login while ${what}. Fix RF_OPERATOR_REDIS_ADMIN_URL.`, { cause: error });
    }
    if (/NOPERM/.test(message)) {
      return new ProvisionError(
        'RedisAdminPrivilegeMissing',
        `The operator's Redis user may not run a command needed while ${what} (${describeCause(error)}). It needs ACL, ` +
          'CLIENT KILL, SCAN and UNLINK on all keys.',
        { cause: error },
      );
    }
    if (/ERR|WRONGTYPE/.test(message) && !/timed? ?out|closed|ECONN|writeable|max retries/i.test(message)) {
      return new ProvisionError('RedisError', `Redis at ${address} failed while ${what}: ${describeCause(error)}.`, { cause: error });
    }
    return new ProvisionError(
      'RedisUnavailable',
      `Redis at ${address} is unreachable while ${what} (${describeCause(error)}). Check that it runs and that the operator ` +
        'can reach it (RF_OPERATOR_REDIS_ADMIN_URL); the operator retries with backoff.',
      { cause: error },
    );
  }
}

function requirePassword(target: TenantTarget, passwords: TenantPasswords | undefined): string {
  if (!passwords?.redis) {
    throw new ProvisionError(
      'CredentialsMissing',
      `No Redis password for dedicated tenant ${target.tenantId}: the credentials Secret is incomplete. The operator ` +
        'generates new ones when the Secret lacks them.',
    );
  }
  return passwords.redis;
}
