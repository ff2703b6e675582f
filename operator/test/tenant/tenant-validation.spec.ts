/**
 * What the API server refuses before the operator ever sees it: the CRD's schema and CEL rules (from
 * @rallyforge/cdk8s, cdk8s/src/operator/tenant-crd.ts) against the real kube-apiserver, with the messages a user
 * reads. Then the longest id the rules admit is provisioned for real (every derived name fits), and what the API
 * server admits but auth refuses shows in the tenant's status.
 */
import { Applier, KubeApiError } from '../../src/controller-core';
import type { RallyForgeTenant, RallyForgeTenantSpec } from '../../src/tenant/tenant-api';
import { CLUSTER_TIMEOUT_MS } from '../support/test-cluster';
import { rejection, TenantBackends } from './tenant-backends';
import { createTenantHarness, DEDICATED_CONVERGE_TIMEOUT_MS, type TenantHarness } from './tenant-harness';
import { TENANTS } from '../../src/tenant/tenant-api';

const FIELD_MANAGER = 'rallyforge-test';

describe('RallyForgeTenant validation by the real kube-apiserver (schema and CEL rules)', () => {
  let harness: TenantHarness;
  let backends: TenantBackends;
  let applier: Applier;

  beforeAll(async () => {
    harness = await createTenantHarness('validation');
    backends = TenantBackends.create(harness);
    applier = Applier.create({ client: harness.cluster.client, fieldManager: FIELD_MANAGER });
  }, CLUSTER_TIMEOUT_MS);

  afterAll(async () => {
    await backends?.close();
    await harness?.close();
  }, 180_000);

  const manifest = (name: string, spec: Record<string, unknown>) => harness.manifest(name, spec as Partial<RallyForgeTenantSpec>);

  /** The API server's refusal of a server-side dry run (nothing is persisted either way): each cause's field and message. */
  async function refusal(tenant: RallyForgeTenant): Promise<{ code: number; causes: string[] }> {
    const error = await rejection(applier.apply(TENANTS, tenant, { dryRun: true }));
    if (!(error instanceof KubeApiError)) throw error;
    return { code: error.statusCode, causes: (error.status.details?.causes ?? []).map((c) => `${c.field ?? '<root>'}: ${c.message}`).sort() };
  }

  it('admits a valid tenant, the longest id included (dry run)', async () => {
    const longest = `t${'a'.repeat(39)}`;
    expect(longest).toHaveLength(40);
    const admitted = await applier.apply(TENANTS, manifest(longest, { tier: 'dedicated', quota: { cpu: '500m', memory: '1Gi', pods: 16, storage: '1Gi', documentStorageBytes: 1024 } }), { dryRun: true });
    expect(admitted.spec).toMatchObject({ tier: 'dedicated', deletionPolicy: 'Delete', suspend: false, registration: 'invite' });
  });

  it('refuses ids that cannot prefix the derived names (too long, not starting with a letter, with dots)', async () => {
    const tooLong = `t${'a'.repeat(40)}`;
    expect(await refusal(manifest(tooLong, {}))).toEqual({
      code: 422,
      causes: ['<nil>: Invalid value: the tenant id (metadata.name) must be at most 40 characters: it prefixes namespaces, database names and vhosts'],
    });
    for (const name of ['1abc', 'a.b']) {
      expect({ name, ...(await refusal(manifest(name, {}))) }).toEqual({
        name,
        code: 422,
        causes: ['<nil>: Invalid value: the tenant id (metadata.name) must start with a letter and contain only lowercase letters, digits and dashes'],
      });
    }
  });

  it('refuses non-positive quotas, with the CEL messages', async () => {
    expect(await refusal(manifest(harness.tenantId('zero'), { quota: { cpu: '0', memory: '0Gi' } }))).toEqual({
      code: 422,
      causes: ['spec.quota: Invalid value: quota.cpu must be a positive Kubernetes quantity', 'spec.quota: Invalid value: quota.memory must be a positive Kubernetes quantity'],
    });
    expect(await refusal(manifest(harness.tenantId('zero'), { tier: 'dedicated', quota: { storage: '0' } }))).toEqual({
      code: 422,
      causes: ['spec.quota: Invalid value: quota.storage must be a positive Kubernetes quantity'],
    });
    // A negative quantity fails the pattern, and the CEL rule says why in words.
    expect(await refusal(manifest(harness.tenantId('negative'), { quota: { cpu: '-1' } }))).toEqual({
      code: 422,
      causes: [
        "spec.quota.cpu: Invalid value: \"-1\": spec.quota.cpu in body should match '^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$'",
        'spec.quota: Invalid value: quota.cpu must be a positive Kubernetes quantity',
      ],
    });
    expect(await refusal(manifest(harness.tenantId('counts'), { quota: { pods: 0, users: 0, apiRequestsPerMinute: 0, documentStorageBytes: -1 } }))).toEqual({
      code: 422,
      causes: [
        'spec.quota.apiRequestsPerMinute: Invalid value: 0: spec.quota.apiRequestsPerMinute in body should be greater than or equal to 1',
        'spec.quota.documentStorageBytes: Invalid value: -1: spec.quota.documentStorageBytes in body should be greater than or equal to 0',
        'spec.quota.pods: Invalid value: 0: spec.quota.pods in body should be greater than or equal to 1',
        'spec.quota.users: Invalid value: 0: spec.quota.users in body should be greater than or equal to 1',
      ],
    });
  });

  it('refuses quotas that contradict each other or the tier', async () => {
    expect(await refusal(manifest(harness.tenantId('mem'), { quota: { memory: '128Mi', pods: 10 } }))).toEqual({
      code: 422,
      causes: ['spec.quota: Invalid value: quota.memory must allow at least 64Mi per pod of quota.pods: lower quota.pods or raise quota.memory'],
    });
    expect(await refusal(manifest(harness.tenantId('storage'), { tier: 'shared', quota: { storage: '1Gi' } }))).toEqual({
      code: 422,
      causes: ['spec: Invalid value: quota.storage applies to the dedicated tier only: shared tenants have no volumes of their own'],
    });
    expect(await refusal(manifest(harness.tenantId('docs'), { tier: 'dedicated', quota: { storage: '1Ki', documentStorageBytes: 5000 } }))).toEqual({
      code: 422,
      causes: ["spec.quota: Invalid value: quota.documentStorageBytes cannot exceed quota.storage: the documents live on the tenant's volumes"],
    });
  });

  it('refuses unknown enum values, no admins and a malformed admin address', async () => {
    const result = await refusal(manifest(harness.tenantId('enums'), { tier: 'silo', admins: [], registration: 'closed', deletionPolicy: 'Purge' }));
    expect(result.code).toBe(422);
    expect(result.causes).toEqual(
      expect.arrayContaining([
        'spec.admins: Invalid value: 0: spec.admins in body should have at least 1 items',
        'spec.deletionPolicy: Unsupported value: "Purge": supported values: "Retain", "Delete"',
        'spec.registration: Unsupported value: "closed": supported values: "invite", "open"',
        'spec.tier: Unsupported value: "silo": supported values: "shared", "dedicated"',
      ]),
    );
    expect((await refusal(manifest(harness.tenantId('email'), { admins: ['not-an-email'] }))).causes).toContain(
      'spec.admins[0]: Invalid value: "not-an-email": spec.admins[0] in body must be of type email: "not-an-email"',
    );
  });

  it('refuses changing the tier of an existing tenant (a transition rule), and leaves it as it was', async () => {
    // No operator selects this run's tenants in this test: the object is only stored, then deleted.
    const id = harness.tenantId('tier');
    await harness.create(manifest(id, { tier: 'shared' }));
    try {
      const error = await rejection(harness.tenants.patch(id, undefined, { spec: { tier: 'dedicated' } }, { type: 'merge' }));
      expect(error).toBeInstanceOf(KubeApiError);
      expect((error as KubeApiError).statusCode).toBe(422);
      expect((error as KubeApiError).status.details?.causes?.map((c) => `${c.field}: ${c.message}`)).toEqual([
        'spec.tier: Invalid value: "dedicated": tier is immutable: create a new tenant and migrate its data to change tiers',
      ]);
      expect((await harness.tenants.get(id)).spec.tier).toBe('shared');
      // Other fields still change.
      await harness.tenants.patch(id, undefined, { spec: { displayName: 'Still shared' } }, { type: 'merge' });
      expect((await harness.tenants.get(id)).spec).toMatchObject({ tier: 'shared', displayName: 'Still shared' });
    } finally {
      await harness.tenants.delete(id);
    }
  });

  describe('with the operator running', () => {
    beforeAll(async () => {
      await harness.startOperator();
    });

    it('provisions a dedicated tenant with the longest id the rules admit: every derived name fits', async () => {
      const id = `t${harness.runId.replace(/[^a-z0-9]/g, '')}`.padEnd(40, 'x').slice(0, 40);
      await harness.create(harness.manifest(id, { tier: 'dedicated' }));
      try {
        const tenant = await harness.waitForCondition(id, 'Ready', 'True', DEDICATED_CONVERGE_TIMEOUT_MS);
        expect(tenant.status?.namespace).toBe(`rf-${id}`);
        const secret = (await backends.secret(id))!;
        const runtime = new URL(secret.DOCUMENTS_DATABASE_URL!);
        // The longest derived name: rf_<id>_documents_app, within PostgreSQL's 63 bytes (it would be truncated silently).
        expect(runtime.username).toBe(`rf_${id}_documents_app`);
        expect(runtime.username.length).toBeLessThanOrEqual(63);
        const who = await backends.postgres(runtime.toString());
        try {
          expect((await who.query('select current_user as u')).rows[0].u).toBe(`rf_${id}_documents_app`);
        } finally {
          await who.end();
        }
      } finally {
        await harness.tenants.delete(id);
        await harness.waitForGone(id);
      }
      expect(await backends.postgresObjects(id)).toEqual({ databases: [], roles: [] });
    });

    it('shows in status what the API server admits but auth refuses (an admin address without a domain)', async () => {
      // The CRD's `format: email` admits `ops@localhost`; auth's contract (zod's e-mail check) does not.
      const id = harness.tenantId('admin');
      await harness.create(harness.manifest(id, { admins: ['ops@localhost'] }));
      try {
        const tenant = await harness.waitForCondition(id, 'Identity', 'False');
        const identity = tenant.status!.conditions!.find((c) => c.type === 'Identity')!;
        // Nothing reached auth: the spec is at fault, and the message says so (not "auth unavailable").
        expect(identity.reason).toBe('RegistrationInvalid');
        expect(identity.message).toBe(
          `The spec of tenant ${id} cannot be sent to auth as auth.organisation.upsert: Payload of auth.organisation.upsert@1 does not ` +
            "match its contract: admins.0: Invalid email. Fix the RallyForgeTenant's spec; nothing was sent to auth.",
        );
        // Retrying cannot fix it: Failed, not Provisioning.
        expect(tenant.status).toMatchObject({ phase: 'Failed' });
        expect(tenant.status!.conditions!.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'LayersNotReady' });

        // Fixing the spec is enough: the next reconcile registers the organisation.
        await harness.tenants.patch(id, undefined, { spec: { admins: [`ops@${id}.example.org`] } }, { type: 'merge' });
        await harness.waitForTenant(id, 'Ready after the fix', (t) => t.metadata.generation === 2 && t.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True');
      } finally {
        await harness.tenants.delete(id);
        await harness.waitForGone(id);
      }
    });
  });
});
