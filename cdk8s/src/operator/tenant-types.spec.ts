import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateTenantTypes } from './tenant-types-generator';
import type { RallyForgeTenantSpec } from './tenant-types.generated';

describe('RallyForgeTenant TypeScript types', () => {
  it('are what the CRD schema generates (run `npm run gen:tenant-types -w @rallyforge/cdk8s` after a schema change)', () => {
    const committed = readFileSync(join(__dirname, 'tenant-types.generated.ts'), 'utf8');
    expect(committed).toBe(generateTenantTypes());
  });

  it('carry the schema: required fields, enums and nested objects', () => {
    const text = generateTenantTypes();
    expect(text).toContain('displayName: string;');
    expect(text).toContain('tier: "shared" | "dedicated";');
    expect(text).toContain('deletionPolicy?: "Retain" | "Delete";');
    expect(text).toContain('quota?: RallyForgeTenantSpecQuota;');
    expect(text).toContain('conditions?: TenantCondition[];');
    // A compile-time check as well: a spec the schema accepts type-checks.
    const spec: RallyForgeTenantSpec = { displayName: 'Demo', tier: 'shared', admins: ['a@example.org'], quota: { pods: 5 } };
    expect(spec.tier).toBe('shared');
  });
});
