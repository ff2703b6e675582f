import * as amqp from 'amqplib';
import { errorMessage, silentLogger, type Logger } from '../../controller-core/logger';
import type { TenantPasswords } from '../credentials';
import type { ExternalLayer, TenantTarget } from '../layers';
import { abortable, deadline, SharedCheck } from './abort';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS } from './external-systems.config';
import { rabbitPasswordMatches } from './password-verifiers';
import { describeCause, ProvisionError } from './provision-error';
import { tenantRabbitUser, tenantVhost } from './tenant-names';

export interface RabbitMqProvisionerOptions {
  /** http(s)://host:port of the management plugin. */
  managementUrl: string;
  adminUser: string;
  adminPassword: string;
  /** amqp(s)://host:port where the operator proves the tenant's login. */
  amqpUrl: string;
  /** Base of the tenants' AMQP_URL (no credentials, no vhost). */
  tenantUrl: string;
  /** The shared tier's vhost. */
  platformVhost: string;
  /** Reads (GET) and AMQP connects give up after this long. @default 5000 */
  connectTimeoutMs?: number;
  /** Writes (PUT, DELETE: deleting a vhost with many queues takes a while) give up after this long. @default 15000 */
  requestTimeoutMs?: number;
  /** How long one shared-tier check serves every shared tenant. @default 10000 */
  sharedCheckTtlMs?: number;
  logger?: Logger;
}

/** Full rights, on the tenant's own vhost only. */
const FULL = { configure: '.*', write: '.*', read: '.*' } as const;
/** Tenant users are `rf-<id>`: one found on another tenant's vhost is a leak, whoever granted it. */
const TENANT_USER_PREFIX = 'rf-';
const DEFAULT_SHARED_CHECK_TTL_MS = 10_000;
const MAX_ERROR_BODY = 300;

interface Permission {
  user: string;
  vhost: string;
  configure: string;
  write: string;
  read: string;
}

interface RabbitUser {
  name: string;
  password_hash?: string;
  hashing_algorithm?: string;
  tags: string[] | string;
}

interface Finding {
  reason: string;
  detail: string;
  repair: () => Promise<void>;
}

/**
 * RabbitMQ for one tenant, through the management HTTP API. Dedicated tier: vhost `rf-<id>` and user `rf-<id>`
 * (no tags) with full permissions on that vhost and none elsewhere. Shared tier: nothing per tenant; the platform's
 * vhost must be up. Level-based like the other layers: observe, then change only what differs.
 */
export class RabbitMqProvisioner implements ExternalLayer {
  readonly condition = 'MessageBroker' as const;
  readonly system = 'RabbitMQ';

  private readonly authorization: string;
  private readonly connectTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly sharedCheck: SharedCheck;
  private readonly logger: Logger;

  static create(options: RabbitMqProvisionerOptions): RabbitMqProvisioner {
    return new RabbitMqProvisioner(options);
  }

  private constructor(private readonly options: RabbitMqProvisionerOptions) {
    this.authorization = `Basic ${Buffer.from(`${options.adminUser}:${options.adminPassword}`).toString('base64')}`;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.sharedCheck = new SharedCheck(options.sharedCheckTtlMs ?? DEFAULT_SHARED_CHECK_TTL_MS);
    this.logger = options.logger ?? silentLogger;
  }

  async ensure(target: TenantTarget, passwords: TenantPasswords, signal?: AbortSignal): Promise<Record<string, string>> {
    if (target.tier === 'shared') return {};
    const password = requirePassword(target, passwords);
    const findings = await this.observe(target, password, signal);
    for (const finding of findings) {
      signal?.throwIfAborted();
      await finding.repair();
      this.logger.info('Repaired RabbitMQ state', { tenant: target.tenantId, reason: finding.reason, detail: finding.detail });
    }
    if (target.suspended) await this.closeConnections(target.tenantId, signal);
    return { AMQP_URL: this.tenantUrl(target.tenantId, password) };
  }

  async verify(target: TenantTarget, passwords: TenantPasswords, signal?: AbortSignal): Promise<void> {
    if (target.tier === 'shared') {
      await this.sharedCheck.run(() => this.verifyPlatformVhost(), signal);
      return;
    }
    const password = requirePassword(target, passwords);
    const findings = await this.observe(target, password, signal);
    if (findings.length) {
      const [first, ...rest] = findings as [Finding, ...Finding[]];
      throw new ProvisionError(
        first.reason,
        `RabbitMQ is not as the tenant needs it: ${first.detail}${rest.length ? `; also: ${rest.map((f) => f.detail).join(', ')}` : ''}. ` +
          'The operator repairs this on its next resync; if it comes back, something else is changing these permissions.',
      );
    }
    if (target.suspended) return; // the observation proved the user has no permissions left
    await abortable(this.probeAsTenant(target.tenantId, password), signal);
  }

  async retain(target: TenantTarget, signal?: AbortSignal): Promise<void> {
    if (target.tier === 'shared') return; // the platform's vhost is shared; auth locks the organisation
    const user = tenantRabbitUser(target.tenantId);
    const permissions = await this.userPermissions(user, signal);
    for (const p of permissions ?? []) {
      await this.delete(`/permissions/${enc(p.vhost)}/${enc(user)}`, signal);
    }
    await this.closeConnections(target.tenantId, signal);
    this.logger.info('Locked RabbitMQ user', { tenant: target.tenantId, user });
  }

  async remove(target: TenantTarget, signal?: AbortSignal): Promise<void> {
    if (target.tier === 'shared') return;
    const vhost = tenantVhost(target.tenantId);
    const user = tenantRabbitUser(target.tenantId);
    // Deleting the vhost deletes its queues and exchanges and closes its connections.
    await this.delete(`/vhosts/${enc(vhost)}`, signal);
    await this.delete(`/users/${enc(user)}`, signal);
    this.logger.info('Removed RabbitMQ vhost and user', { tenant: target.tenantId, vhost, user });
  }

  async close(): Promise<void> {
    // Plain fetch: no connection of our own to close.
  }

  private tenantUrl(tenantId: string, password: string): string {
    const url = new URL(this.options.tenantUrl);
    url.username = encodeURIComponent(tenantRabbitUser(tenantId));
    url.password = encodeURIComponent(password);
    url.pathname = `/${enc(tenantVhost(tenantId))}`;
    return url.toString();
  }

  /** Everything that differs from the tenant's desired state, each with the call that puts it back. */
  private async observe(target: TenantTarget, password: string, signal?: AbortSignal): Promise<Finding[]> {
    const vhost = tenantVhost(target.tenantId);
    const user = tenantRabbitUser(target.tenantId);
    const [vhostInfo, userInfo, userPermissions, vhostPermissions] = await Promise.all([
      this.get<unknown>(`/vhosts/${enc(vhost)}`, signal),
      this.get<RabbitUser>(`/users/${enc(user)}`, signal),
      this.userPermissions(user, signal),
      this.get<Permission[]>(`/vhosts/${enc(vhost)}/permissions`, signal),
    ]);
    const findings: Finding[] = [];
    if (vhostInfo === undefined) {
      findings.push({
        reason: 'VhostMissing',
        detail: `vhost ${vhost} does not exist`,
        repair: () => this.put(`/vhosts/${enc(vhost)}`, { description: `RallyForge tenant ${target.tenantId}`, tags: 'rallyforge-tenant' }, signal),
      });
    }
    const setUser = () => this.put(`/users/${enc(user)}`, { password, tags: '' }, signal);
    if (userInfo === undefined) {
      findings.push({ reason: 'RabbitUserMissing', detail: `user ${user} does not exist`, repair: setUser });
    } else {
      const tags = (Array.isArray(userInfo.tags) ? userInfo.tags : userInfo.tags.split(',')).filter(Boolean);
      if (tags.length) {
        findings.push({ reason: 'RabbitUserTagsDrift', detail: `user ${user} has tags ${tags.join(', ')} (it must have none)`, repair: setUser });
      } else if (!rabbitPasswordMatches(userInfo.password_hash, userInfo.hashing_algorithm, password)) {
        findings.push({ reason: 'RabbitPasswordDrift', detail: `user ${user} has a different password than the credentials Secret`, repair: setUser });
      }
    }
    for (const p of userPermissions ?? []) {
      if (p.vhost === vhost) continue;
      findings.push({
        reason: 'VhostPermissionDrift',
        detail: `user ${user} has permissions on vhost ${p.vhost}`,
        repair: () => this.delete(`/permissions/${enc(p.vhost)}/${enc(user)}`, signal),
      });
    }
    const own = userPermissions?.find((p) => p.vhost === vhost);
    const ownPermission = () => this.put(`/permissions/${enc(vhost)}/${enc(user)}`, FULL, signal);
    if (target.suspended) {
      if (own) {
        findings.push({
          reason: 'VhostPermissionDrift',
          detail: `user ${user} may still use vhost ${vhost} although the tenant is suspended`,
          repair: () => this.delete(`/permissions/${enc(vhost)}/${enc(user)}`, signal),
        });
      }
    } else if (!own) {
      findings.push({ reason: 'VhostPermissionMissing', detail: `user ${user} has no permissions on vhost ${vhost}`, repair: ownPermission });
    } else if (own.configure !== FULL.configure || own.write !== FULL.write || own.read !== FULL.read) {
      findings.push({
        reason: 'VhostPermissionDrift',
        detail: `user ${user} has configure "${own.configure}", write "${own.write}", read "${own.read}" on vhost ${vhost} (wanted ".*")`,
        repair: ownPermission,
      });
    }
    for (const p of vhostPermissions ?? []) {
      if (p.user === user || !p.user.startsWith(TENANT_USER_PREFIX)) continue;
      findings.push({
        reason: 'VhostForeignPermission',
        detail: `another tenant's user ${p.user} has permissions on vhost ${vhost}`,
        repair: () => this.delete(`/permissions/${enc(vhost)}/${enc(p.user)}`, signal),
      });
    }
    // Creating the vhost and the user first: permissions refer to both.
    const order = ['VhostMissing', 'RabbitUserMissing', 'RabbitUserTagsDrift', 'RabbitPasswordDrift'];
    const rank = (f: Finding) => (order.includes(f.reason) ? order.indexOf(f.reason) : order.length);
    return findings.sort((a, b) => rank(a) - rank(b));
  }

  /** Logs in over AMQP as the tenant: it opens its vhost and may declare (configure) in it. */
  private async probeAsTenant(tenantId: string, password: string): Promise<void> {
    const vhost = tenantVhost(tenantId);
    const user = tenantRabbitUser(tenantId);
    const url = new URL(this.options.amqpUrl);
    url.username = encodeURIComponent(user);
    url.password = encodeURIComponent(password);
    url.pathname = `/${enc(vhost)}`;
    let connection: amqp.ChannelModel | undefined;
    try {
      connection = await amqp.connect(url.toString(), { timeout: this.connectTimeoutMs });
      connection.on('error', () => undefined);
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      // Exclusive, server-named, classic: gone with the connection, and allowed whatever the vhost's default type.
      await channel.assertQueue('', { exclusive: true, durable: false, arguments: { 'x-queue-type': 'classic' } });
    } catch (error) {
      throw this.tenantLoginError(error, user, vhost);
    } finally {
      await connection?.close().catch(() => undefined);
    }
  }

  private async verifyPlatformVhost(): Promise<void> {
    const vhost = this.options.platformVhost;
    const info = await this.get<{ cluster_state?: Record<string, string> }>(`/vhosts/${enc(vhost)}`);
    if (info === undefined) {
      throw new ProvisionError(
        'PlatformVhostMissing',
        `The platform's vhost ${vhost} does not exist on RabbitMQ ${this.options.managementUrl}: shared-tier tenants ` +
          'use it. Deploy the platform first, or fix RF_OPERATOR_RABBITMQ_PLATFORM_VHOST.',
      );
    }
    const down = Object.entries(info.cluster_state ?? {}).filter(([, state]) => state !== 'running');
    if (down.length) {
      throw new ProvisionError(
        'VhostDown',
        `The platform's vhost ${vhost} is not running on ${down.map(([node, state]) => `${node} (${state})`).join(', ')}. ` +
          'Check the broker logs; rabbitmqctl restart_vhost restarts it.',
      );
    }
  }

  /** The user's permissions, or undefined when the user does not exist. */
  private userPermissions(user: string, signal?: AbortSignal): Promise<Permission[] | undefined> {
    return this.get<Permission[]>(`/users/${enc(user)}/permissions`, signal);
  }

  private async closeConnections(tenantId: string, signal?: AbortSignal): Promise<void> {
    const user = tenantRabbitUser(tenantId);
    const connections = await this.get<Array<{ name: string; user: string }>>(`/vhosts/${enc(tenantVhost(tenantId))}/connections`, signal);
    for (const c of connections ?? []) {
      if (c.user !== user) continue;
      await this.call('DELETE', `/connections/${enc(c.name)}`, undefined, signal, [404], { 'x-reason': 'RallyForge tenant locked by the operator' });
    }
  }

  /** GET; undefined for 404. */
  private async get<T>(path: string, signal?: AbortSignal): Promise<T | undefined> {
    const response = await this.call('GET', path, undefined, signal, [404]);
    if (response.status === 404) return undefined;
    return (await response.json()) as T;
  }

  private async put(path: string, body: unknown, signal?: AbortSignal): Promise<void> {
    await this.call('PUT', path, body, signal);
  }

  /** DELETE; already gone is fine. */
  private async delete(path: string, signal?: AbortSignal): Promise<void> {
    await this.call('DELETE', path, undefined, signal, [404]);
  }

  private async call(
    method: 'GET' | 'PUT' | 'DELETE',
    path: string,
    body: unknown,
    signal: AbortSignal | undefined,
    accepted: number[] = [],
    headers: Record<string, string> = {},
  ): Promise<Response> {
    signal?.throwIfAborted();
    const what = `${method} /api${path}`;
    let response: Response;
    try {
      response = await fetch(`${this.options.managementUrl}/api${path}`, {
        method,
        headers: { authorization: this.authorization, 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: deadline(method === 'GET' ? this.connectTimeoutMs : this.requestTimeoutMs, signal),
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw new ProvisionError(
        'RabbitMqUnavailable',
        `The RabbitMQ management API at ${this.options.managementUrl} did not answer ${what} (${fetchCause(error)}). ` +
          'Check that the broker and its management plugin run and that RF_OPERATOR_RABBITMQ_MANAGEMENT_URL is right; ' +
          'the operator retries with backoff.',
        { cause: error },
      );
    }
    if (response.ok || accepted.includes(response.status)) return response;
    const text = (await response.text().catch(() => '')).slice(0, MAX_ERROR_BODY);
    if (response.status === 401) {
      throw new ProvisionError(
        'RabbitMqAdminLoginFailed',
        `RabbitMQ refused the operator's admin login (${what}: 401). Fix RF_OPERATOR_RABBITMQ_ADMIN_USER / _PASSWORD.`,
      );
    }
    if (response.status === 403) {
      throw new ProvisionError(
        'RabbitMqAdminPrivilegeMissing',
        `RabbitMQ refused ${what} to the operator's admin user (403 ${text}). Tag it administrator.`,
      );
    }
    if (response.status >= 500) {
      throw new ProvisionError(
        'RabbitMqUnavailable',
        `The RabbitMQ management API failed ${what} (${response.status} ${text}); the operator retries with backoff.`,
      );
    }
    throw new ProvisionError('RabbitMqApiError', `The RabbitMQ management API refused ${what} (${response.status} ${text}).`);
  }

  private tenantLoginError(error: unknown, user: string, vhost: string): ProvisionError {
    const message = errorMessage(error);
    const cause = describeCause(error);
    if (/ACCESS_REFUSED/.test(message) && /login/i.test(message)) {
      return new ProvisionError(
        'RabbitLoginFailed',
        `RabbitMQ refused the tenant's login as ${user} (${cause}). The operator sets the password again on its next ` +
          'resync; if this persists, rotate the credentials.',
        { cause: error },
      );
    }
    // The broker closes the connection instead of opening the vhost; amqplib reports only the unexpected frame.
    if (/NOT_ALLOWED|access to vhost|Expected ConnectionOpenOk/i.test(message)) {
      return new ProvisionError(
        'VhostAccessRefused',
        `RabbitMQ refused user ${user} access to its vhost ${vhost} (${cause}); the operator restores its permissions on its next resync.`,
        { cause: error },
      );
    }
    if (/ACCESS_REFUSED/.test(message)) {
      return new ProvisionError(
        'VhostPermissionDrift',
        `User ${user} may not declare queues in its vhost ${vhost} (${cause}); the operator restores its permissions on its next resync.`,
        { cause: error },
      );
    }
    return new ProvisionError(
      'RabbitMqUnavailable',
      `RabbitMQ at ${new URL(this.options.amqpUrl).host} did not accept an AMQP connection for ${user} (${cause}). Check ` +
        'that the broker runs and that RF_OPERATOR_RABBITMQ_AMQP_URL is the address the operator reaches it at.',
      { cause: error },
    );
  }
}

function requirePassword(target: TenantTarget, passwords: TenantPasswords | undefined): string {
  if (!passwords?.rabbitmq) {
    throw new ProvisionError(
      'CredentialsMissing',
      `No RabbitMQ password for dedicated tenant ${target.tenantId}: the credentials Secret is incomplete. The operator ` +
        'generates new ones when the Secret lacks them.',
    );
  }
  return passwords.rabbitmq;
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

/** fetch() hides the socket error in `cause`. */
function fetchCause(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  if (error instanceof Error && error.name === 'TimeoutError') return 'timed out';
  return describeCause(cause ?? error);
}
