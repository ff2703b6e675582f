import type { DataService } from '../credentials';
import { ProvisionError } from './provision-error';

/** A DNS-1123 label, as the CRD's CEL rule admits tenant ids. */
const TENANT_ID_PATTERN = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** PostgreSQL truncates identifiers at 63 bytes: `rf_` + id + `_documents_app` must fit. */
export const MAX_TENANT_ID_LENGTH = 63 - 'rf_'.length - '_documents_app'.length;

/**
 * Every name the external systems derive from a tenant id, in one place. Ids are validated here even though the
 * API server already did: these names end up in SQL, URLs and ACL rules.
 */
export function assertTenantId(tenantId: string): void {
  if (!TENANT_ID_PATTERN.test(tenantId) || tenantId.length > MAX_TENANT_ID_LENGTH) {
    throw new ProvisionError(
      'InvalidTenantId',
      `Tenant id "${tenantId.slice(0, 80)}" cannot name external resources: it must be a DNS-1123 label ` +
        `(lower-case letters, digits and '-', starting with a letter) of at most ${MAX_TENANT_ID_LENGTH} characters. ` +
        'Recreate the tenant with a shorter name.',
    );
  }
}

/** `rf_<id with - as _>_<service>`: the dedicated tier's database, and the name of its owner role. */
export function tenantDatabaseName(tenantId: string, service: DataService): string {
  assertTenantId(tenantId);
  return `rf_${tenantId.replace(/-/g, '_')}_${service}`;
}

/**
 * The two login roles of a dedicated tenant's database, as docs/adr/0005-row-level-security.md has them for the
 * platform: the owner (`rf_<id>_<service>`, migrations) and the runtime role (`…_app`, the service).
 */
export function tenantDatabaseRoles(tenantId: string, service: DataService): { database: string; owner: string; app: string } {
  const database = tenantDatabaseName(tenantId, service);
  return { database, owner: database, app: `${database}_app` };
}

/** The dedicated tier's vhost and its user: `rf-<id>`. */
export function tenantVhost(tenantId: string): string {
  assertTenantId(tenantId);
  return `rf-${tenantId}`;
}

export const tenantRabbitUser = tenantVhost;

/** The dedicated tier's Redis ACL user: `rf-<id>`. */
export function tenantRedisUser(tenantId: string): string {
  assertTenantId(tenantId);
  return `rf-${tenantId}`;
}

/** Keys and channels of a tenant, in either tier: `t:<id>:`. */
export function tenantRedisPrefix(tenantId: string): string {
  assertTenantId(tenantId);
  return `t:${tenantId}:`;
}

/** `AUTH_DATABASE_URL`, ... in the tenant's credentials Secret: the runtime role's URL, for the service. */
export function databaseUrlKey(service: DataService): string {
  return `${service.toUpperCase()}_DATABASE_URL`;
}

/** `AUTH_MIGRATION_DATABASE_URL`, ...: the owner's URL, for the migration Job only. */
export function migrationDatabaseUrlKey(service: DataService): string {
  return `${service.toUpperCase()}_MIGRATION_DATABASE_URL`;
}
