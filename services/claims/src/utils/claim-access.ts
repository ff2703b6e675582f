import { dataScopeOf, rolesHavePermission } from '@rallyforge/contracts';
import type { AuthUser } from '@rallyforge/service-kit';

/**
 * Which claims a caller may see: always only their organisation's (tenant from the verified token), the whole
 * organisation's for representatives and org admins, only their own for everyone else (dataScopeOf in
 * @rallyforge/contracts). Whether they may act at all is the permission guard's job (PERMISSIONS); repositories
 * turn the scope into WHERE clauses.
 */
export interface ClaimScope {
  tenantId: string;
  /** Set when the caller may only see claims they own. */
  ownerId?: string;
}

export function claimScopeFor(user: AuthUser): ClaimScope {
  return dataScopeOf(user.roles) === 'organisation' ? { tenantId: user.tenantId } : { tenantId: user.tenantId, ownerId: user.userId };
}

/** Service-level check (the guard checked the same permission over HTTP): may this caller file a claim? */
export function canFileClaims(user: AuthUser): boolean {
  return rolesHavePermission(user.roles, 'claims:create');
}

/** May this caller move claims of their organisation through their lifecycle? */
export function canChangeClaimStatus(user: AuthUser): boolean {
  return rolesHavePermission(user.roles, 'claims:update-status');
}
