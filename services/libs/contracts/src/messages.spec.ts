import { Commands, Events, findContract } from './messages';

describe('message contracts', () => {
  it('has unique type@version pairs', () => {
    const keys = [...Object.values(Events), ...Object.values(Commands)].map((c) => `${c.type}@${c.version}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('finds a contract by type and version, and nothing for an unknown version', () => {
    expect(findContract('document.uploaded', 1)).toBe(Events.documentUploaded);
    expect(findContract('document.uploaded', 99)).toBeUndefined();
  });

  it('rejects a payload that breaks its schema', () => {
    const result = Events.claimCreated.schema.safeParse({ claimId: 'not-a-uuid' });
    expect(result.success).toBe(false);
  });

  it('refuses tenant ids that are not DNS labels in the organisation command', () => {
    const base = { displayName: 'Demo', registration: 'open', admins: [] };
    expect(Commands.upsertOrganisation.schema.safeParse({ ...base, tenantId: 'demo' }).success).toBe(true);
    expect(Commands.upsertOrganisation.schema.safeParse({ ...base, tenantId: 'Demo_Org' }).success).toBe(false);
  });
});
