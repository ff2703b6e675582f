import { setCondition } from './conditions';
import { decodeSecretData, generatePasswords, passwordEntries, readPasswords } from './credentials';
import { firstDifference, isSubset } from './object-diff';
import { loadOperatorConfig, OperatorConfigError } from './operator-config';
import { DEFAULT_TENANT_SETTINGS } from './operator-settings';
import type { RallyForgeTenant } from './tenant-api';
import { CREDENTIALS_SECRET, namespaceObjects, TENANT_OBJECTS_SELECTOR } from './tenant-objects';

const tenant = (spec: Partial<RallyForgeTenant['spec']> = {}): RallyForgeTenant => ({
  apiVersion: 'rallyforge.io/v1alpha1',
  kind: 'RallyForgeTenant',
  metadata: { name: 'acme', generation: 3 },
  spec: { displayName: 'Acme VSO', tier: 'shared', admins: ['a@acme.org'], ...spec },
});

describe('isSubset (what decides whether the reconciler writes)', () => {
  it('ignores fields the server added and compares lists element by element', () => {
    const desired = { metadata: { name: 'x', labels: { a: '1' } }, spec: { hard: { pods: '10' }, list: [{ port: 53 }] } };
    const live = { metadata: { name: 'x', uid: 'u', labels: { a: '1', b: '2' } }, spec: { hard: { pods: '10' }, list: [{ port: 53, protocol: 'TCP' }] }, status: {} };
    expect(isSubset(desired, live)).toBe(true);
  });
  it('sees drift: a changed value, a missing field, a shorter list', () => {
    expect(isSubset({ spec: { hard: { pods: '10' } } }, { spec: { hard: { pods: '11' } } })).toBe(false);
    expect(isSubset({ spec: { policyTypes: ['Ingress', 'Egress'] } }, { spec: { policyTypes: ['Ingress'] } })).toBe(false);
    expect(isSubset({ data: { A: 'eA==' } }, { data: {} })).toBe(false);
    expect(isSubset({ a: {} }, { a: null })).toBe(false);
  });
  it('takes an absent live field for the zero value the API server leaves out (omitempty), but not a set one', () => {
    const desired = { spec: { minReadySeconds: 0, externalIPs: [], template: { spec: { hostNetwork: false, securityContext: { sysctls: [] } } } } };
    expect(isSubset(desired, { spec: { template: { spec: {} } } })).toBe(true);
    expect(isSubset({ spec: { hostNetwork: false } }, { spec: { hostNetwork: true } })).toBe(false);
    expect(isSubset({ spec: { replicas: 0 } }, { spec: { replicas: 2 } })).toBe(false);
    expect(isSubset({ spec: { ports: [] } }, { spec: { ports: [{ port: 80 }] } })).toBe(false);
  });
  it('names the first field that differs, quoting keys that are not identifiers', () => {
    expect(firstDifference({ metadata: { labels: { 'app.kubernetes.io/name': 'auth' } } }, { metadata: { labels: {} } })).toBe(
      'metadata.labels["app.kubernetes.io/name"]',
    );
    expect(firstDifference({ spec: { ports: [{ port: 80 }, { port: 81 }] } }, { spec: { ports: [{ port: 80 }, { port: 82 }] } })).toBe('spec.ports[1].port');
    expect(firstDifference({ a: 1 }, { a: 1, b: 2 })).toBeUndefined();
  });
});

describe('setCondition', () => {
  it('moves lastTransitionTime only when the status changes', () => {
    const t0 = new Date('2026-01-01T00:00:00Z');
    const t1 = new Date('2026-01-01T01:00:00Z');
    let conditions = setCondition([], { type: 'Database', status: 'False', reason: 'PostgresUnavailable', message: 'down' }, 1, t0);
    conditions = setCondition(conditions, { type: 'Database', status: 'False', reason: 'PostgresUnavailable', message: 'still down' }, 2, t1);
    expect(conditions).toEqual([{ type: 'Database', status: 'False', reason: 'PostgresUnavailable', message: 'still down', observedGeneration: 2, lastTransitionTime: '2026-01-01T00:00:00Z' }]);
    conditions = setCondition(conditions, { type: 'Database', status: 'True', reason: 'Provisioned', message: 'ok' }, 2, t1);
    expect(conditions[0]!.lastTransitionTime).toBe('2026-01-01T01:00:00Z');
  });
});

describe('credentials', () => {
  it('round-trips passwords through the Secret and refuses a partial set', () => {
    const passwords = generatePasswords();
    const entries = passwordEntries(passwords);
    const base64 = Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
    expect(readPasswords(decodeSecretData(base64))).toEqual(passwords);
    const { PASSWORD_REDIS: _redis, ...partial } = entries;
    expect(readPasswords(partial)).toBeUndefined();
    expect(new Set(Object.values(entries)).size).toBe(Object.values(entries).length);
  });
});

describe('namespaceObjects', () => {
  const kinds = (objects: ReturnType<typeof namespaceObjects>) => objects.map((o) => `${o.object.kind}/${o.object.metadata.name}`);

  it('isolates the tenant namespace: quota, limits, default-deny plus named allows, read-only admin role, the Secret', () => {
    const objects = namespaceObjects(tenant({ network: { allowedNamespaces: ['partners'] } }), DEFAULT_TENANT_SETTINGS, { TENANT_ID: 'acme' });
    expect(kinds(objects)).toEqual([
      'Namespace/rf-acme', 'ResourceQuota/tenant-quota', 'LimitRange/tenant-defaults', 'NetworkPolicy/default-deny',
      'NetworkPolicy/allow-same-namespace', 'NetworkPolicy/allow-platform-ingress', 'NetworkPolicy/allow-egress',
      'Role/tenant-admin', 'RoleBinding/tenant-admins', `Secret/${CREDENTIALS_SECRET}`,
    ]);
    for (const { object } of objects) {
      expect(object.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'rallyforge-operator', 'rallyforge.io/tenant': 'acme', 'rallyforge.io/tier': 'shared' });
      if (object.kind !== 'Namespace') expect(object.metadata.namespace).toBe('rf-acme');
    }
    const allow = objects.find((o) => o.object.metadata.name === 'allow-platform-ingress')!.object as unknown as { spec: { ingress: Array<{ from: Array<{ namespaceSelector: { matchLabels: Record<string, string> } }> }> } };
    expect(allow.spec.ingress[0]!.from.map((f) => f.namespaceSelector.matchLabels['kubernetes.io/metadata.name'])).toEqual(['ingress-nginx', 'monitoring', 'rallyforge', 'partners']);
    const role = objects.find((o) => o.object.kind === 'Role')!.object as unknown as { rules: Array<{ resources: string[]; verbs: string[] }> };
    expect(role.rules.flatMap((r) => r.resources)).not.toContain('secrets');
    expect(role.rules.flatMap((r) => r.verbs)).toEqual(expect.not.arrayContaining(['create', 'update', 'delete', 'patch']));
    const secret = objects.find((o) => o.object.kind === 'Secret')!.object as unknown as { data: Record<string, string> };
    expect(Buffer.from(secret.data.TENANT_ID!, 'base64').toString()).toBe('acme');
  });

  it('takes quota from the spec, defaults by tier, and gives storage only to dedicated tenants', () => {
    const quota = (t: RallyForgeTenant) => (namespaceObjects(t, DEFAULT_TENANT_SETTINGS, {})[1]!.object as unknown as { spec: { hard: Record<string, string> } }).spec.hard;
    expect(quota(tenant())).toEqual({ 'requests.cpu': '1', 'requests.memory': '2Gi', pods: '10', persistentvolumeclaims: '0' });
    expect(quota(tenant({ tier: 'dedicated', quota: { cpu: '2', pods: 30, storage: '5Gi' } }))).toEqual({ 'requests.cpu': '2', 'requests.memory': '16Gi', pods: '30', 'requests.storage': '5Gi' });
  });

  it('selects only its own objects', () => {
    expect(TENANT_OBJECTS_SELECTOR).toBe('app.kubernetes.io/managed-by=rallyforge-operator,rallyforge.io/tenant');
  });
});

describe('loadOperatorConfig', () => {
  it('reads defaults and settings', () => {
    const config = loadOperatorConfig({ AMQP_URL: 'amqp://op:pw@localhost:5672/rf', RESYNC_PERIOD_SECONDS: '30', LEADER_ELECTION: 'false' });
    expect(config.tenants.resyncPeriodMs).toBe(30_000);
    expect(config.leaderElection).toBe(false);
    expect(config.tenants.namespacePrefix).toBe('rf-');
  });
  it('names every bad variable', () => {
    expect(() => loadOperatorConfig({ AMQP_URL: 'http://nope', RESYNC_PERIOD_SECONDS: '-1', TENANT_NAMESPACE_PREFIX: 'RF' })).toThrow(OperatorConfigError);
    try {
      loadOperatorConfig({ AMQP_URL: 'http://nope', RESYNC_PERIOD_SECONDS: '-1', TENANT_NAMESPACE_PREFIX: 'RF' });
    } catch (error) {
      expect((error as Error).message).toMatch(/AMQP_URL: must be a amqp: or amqps: URL/);
      expect((error as Error).message).toMatch(/RESYNC_PERIOD_SECONDS/);
      expect((error as Error).message).toMatch(/TENANT_NAMESPACE_PREFIX/);
      expect((error as Error).message).not.toMatch(/pw/);
    }
  });
});
