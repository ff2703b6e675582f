import type { AuthUser } from '@rallyforge/service-kit';
import { FILING_ROLES, ORGANISATION_ROLES } from '../claims.constants';

/**
 * Which claims a caller may see: always only their organisation's (tenant from the verified token), and for
 * anyone without an organisation role only their own. Repositories turn this into WHERE clauses.
 */
export interface ClaimScope {
  tenantId: string;
  /** Set when the caller may only see claims they own. */
  ownerId?: string;
}

export function claimScopeFor(user: AuthUser): ClaimScope {
  const organisationWide = user.roles.some((role) => ORGANISATION_ROLES.includes(role));
  return organisationWide ? { tenantId: user.tenantId } : { tenantId: user.tenantId, ownerId: user.userId };
}

export function canFileClaims(user: AuthUser): boolean {
  return user.roles.some((role) => FILING_ROLES.includes(role));
}
