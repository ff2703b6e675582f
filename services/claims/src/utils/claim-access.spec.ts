import { canFileClaims, claimScopeFor } from './claim-access';

const user = (roles: string[]) => ({ userId: 'u-1', tenantId: 'acme', roles });

describe('claimScopeFor', () => {
  it('limits veterans (and unknown roles) to their own claims', () => {
    expect(claimScopeFor(user(['veteran']))).toEqual({ tenantId: 'acme', ownerId: 'u-1' });
    expect(claimScopeFor(user([]))).toEqual({ tenantId: 'acme', ownerId: 'u-1' });
    expect(claimScopeFor(user(['platform_admin']))).toEqual({ tenantId: 'acme', ownerId: 'u-1' });
  });

  it("gives representatives and organisation admins the organisation's claims", () => {
    expect(claimScopeFor(user(['representative']))).toEqual({ tenantId: 'acme' });
    expect(claimScopeFor(user(['veteran', 'org_admin']))).toEqual({ tenantId: 'acme' });
  });
});

describe('canFileClaims', () => {
  it('lets veterans file claims', () => {
    expect(canFileClaims(user(['veteran']))).toBe(true);
    expect(canFileClaims(user(['representative']))).toBe(false);
  });
});
