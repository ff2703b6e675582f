import { actorHasPermission, isServiceActor } from './permissions';

describe('isServiceActor', () => {
  it('is the named service only, never a user of the same id nor another service', () => {
    expect(isServiceActor({ kind: 'service', id: 'auth', roles: [] }, 'auth')).toBe(true);
    expect(isServiceActor({ kind: 'user', id: 'auth', roles: ['platform_admin'] }, 'auth')).toBe(false);
    expect(isServiceActor({ kind: 'service', id: 'claims', roles: [] }, 'auth')).toBe(false);
    expect(isServiceActor(undefined, 'auth')).toBe(false);
  });

  it('is stricter than a permission services hold', () => {
    const claims = { kind: 'service' as const, id: 'claims', roles: [] };
    expect(actorHasPermission(claims, 'audit:record')).toBe(true);
    expect(isServiceActor(claims, 'auth')).toBe(false);
  });
});
