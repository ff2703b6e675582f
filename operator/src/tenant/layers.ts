/**
 * The layers outside Kubernetes (PostgreSQL, RabbitMQ, Redis) and the identity registration with auth, as the
 * reconciler uses them. Implementations: ./external (the real servers) and ./identity (auth over the bus).
 */
import type { TenantPasswords } from './credentials';

export interface TenantTarget {
  tenantId: string;
  tier: 'shared' | 'dedicated';
  suspended: boolean;
}

/** A failure a human can act on: `reason` is CamelCase for the condition, `message` says what to do. */
export class LayerError extends Error {
  override readonly name: string = 'LayerError';
  constructor(
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ExternalLayer {
  /** The condition this layer reports (Database, MessageBroker, Cache). */
  readonly condition: 'Database' | 'MessageBroker' | 'Cache';
  /** For messages: PostgreSQL, RabbitMQ, Redis. */
  readonly system: string;
  /** Create or repair (drift), idempotently; returns connection strings for the tenant's credentials Secret. */
  ensure(target: TenantTarget, passwords: TenantPasswords, signal?: AbortSignal): Promise<Record<string, string>>;
  /** Prove it works with the tenant's own credentials (Ready means checked). Throws LayerError. */
  verify(target: TenantTarget, passwords: TenantPasswords, signal?: AbortSignal): Promise<void>;
  /** deletionPolicy Retain: keep the data, disable the tenant's logins. */
  retain(target: TenantTarget, signal?: AbortSignal): Promise<void>;
  /** deletionPolicy Delete: remove the tenant's data and logins. */
  remove(target: TenantTarget, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export interface OrganisationRegistration {
  tenantId: string;
  displayName: string;
  registration: 'invite' | 'open';
  admins: string[];
  suspended: boolean;
  limits?: { apiRequestsPerMinute?: number; users?: number; documentStorageBytes?: number };
}

/**
 * The reason of an IdentityRegistrar failure caused by the tenant's spec itself (for example an admin address the
 * CRD's `format: email` admits and auth's contract does not): retrying cannot help until the spec changes.
 */
export const REGISTRATION_INVALID = 'RegistrationInvalid';

export interface IdentityRegistrar {
  /** Creates or updates the organisation in auth and invites its admins; resolves with auth's summary. */
  register(organisation: OrganisationRegistration, signal?: AbortSignal): Promise<string>;
  /** Retain: lock the organisation; Delete: remove it and its users' data. */
  deprovision(tenantId: string, mode: 'retain' | 'delete', signal?: AbortSignal): Promise<string>;
  close(): Promise<void>;
}
