import type { Actor } from './envelope';

/**
 * Who may do what, defined once for every service (docs/security.md). Roles come only from the verified
 * access token (HTTP) or the envelope's actor (bus); never from a request body.
 */
export const Role = {
  veteran: 'veteran',
  representative: 'representative',
  orgAdmin: 'org_admin',
  platformAdmin: 'platform_admin',
} as const;
export type Role = (typeof Role)[keyof typeof Role];
export const ROLES: readonly Role[] = Object.values(Role);

/** Roles that see and act on their whole organisation's veteran data (claims, documents, payments). */
export const ORGANISATION_DATA_ROLES: readonly Role[] = [Role.representative, Role.orgAdmin];
/** Roles that see only their own veteran data. */
export const OWN_DATA_ROLES: readonly Role[] = [Role.veteran];

export interface PermissionRule {
  /** Users holding any of these roles have the permission. */
  readonly roles: readonly Role[];
  /** Whether a `service` actor (another RallyForge service, the operator) holds it on the bus. @default false */
  readonly services?: boolean;
  readonly description: string;
}

const VETERAN_DATA_READERS: readonly Role[] = [Role.veteran, Role.representative, Role.orgAdmin];

/**
 * Action → who holds it. `platform_admin` manages organisations but holds no permission on veteran data: it
 * reads no claim, document or payment. Resource rules (own vs. organisation) come on top: see `dataScopeOf`.
 */
export const PERMISSIONS = {
  'claims:create': { roles: [Role.veteran], description: 'File a claim for oneself' },
  'claims:read': { roles: VETERAN_DATA_READERS, description: 'Read claims (own, or the organisation\'s)' },
  'claims:update-status': {
    roles: [Role.representative, Role.orgAdmin],
    description: "Move a claim of the organisation through its lifecycle",
  },
  'documents:upload': { roles: VETERAN_DATA_READERS, description: 'Upload evidence (owned by the uploader)' },
  'documents:read': { roles: VETERAN_DATA_READERS, description: 'Read document metadata and content' },
  'payments:plans:read': { roles: [...ROLES], description: 'Read the plan catalogue (also public over HTTP)' },
  'payments:create': { roles: [Role.veteran], description: 'Pay for a subscription for oneself' },
  'payments:read': { roles: VETERAN_DATA_READERS, description: 'Read payments (own, or the organisation\'s)' },
  'account:read': { roles: [...ROLES], description: 'Read one\'s own account' },
  'audit:read': { roles: [Role.orgAdmin], description: "Read the organisation's audit log" },
  'users:invite': { roles: [Role.orgAdmin], description: 'Invite users into the organisation' },
  'organisations:manage': {
    roles: [Role.platformAdmin],
    services: true,
    description: 'Create, update, suspend and deprovision organisations (the operator over the bus)',
  },
  'user-data:export': { roles: [], services: true, description: 'Collect a user\'s data for a GDPR export (auth over the bus)' },
  'audit:record': { roles: [], services: true, description: 'Append to the audit log (services over the bus)' },
} as const satisfies Record<string, PermissionRule>;

export type Permission = keyof typeof PERMISSIONS;
export const PERMISSION_NAMES = Object.keys(PERMISSIONS) as Permission[];

/** Whether a user holding `roles` has `permission`. Unknown roles grant nothing. */
export function rolesHavePermission(roles: readonly string[], permission: Permission): boolean {
  const rule: PermissionRule = PERMISSIONS[permission];
  return roles.some((role) => (rule.roles as readonly string[]).includes(role));
}

/**
 * Whether a bus actor is the service named `service` (messages only that service may send: auth speaks for a user's
 * data and an organisation's lifecycle). A user actor is never a service, whatever its id.
 */
export function isServiceActor(actor: Actor | undefined, service: string): boolean {
  return actor?.kind === 'service' && actor.id === service;
}

/** Whether a bus actor has `permission`: a service actor when the rule allows services, a user by their roles. */
export function actorHasPermission(actor: Actor | undefined, permission: Permission): boolean {
  if (!actor) return false;
  const rule: PermissionRule = PERMISSIONS[permission];
  if (actor.kind === 'service') return rule.services === true;
  return rolesHavePermission(actor.roles, permission);
}

/**
 * Whose veteran data a caller sees inside their own organisation: the whole organisation's (representative,
 * org_admin), only their own (veteran), or none (platform_admin, unknown roles). The tenant always comes from the
 * token; another organisation's data is never in scope.
 */
export type DataScope = 'organisation' | 'own' | 'none';

export function dataScopeOf(roles: readonly string[]): DataScope {
  if (roles.some((role) => (ORGANISATION_DATA_ROLES as readonly string[]).includes(role))) return 'organisation';
  if (roles.some((role) => (OWN_DATA_ROLES as readonly string[]).includes(role))) return 'own';
  return 'none';
}
