import { Testing } from 'cdk8s';
import { Manifests } from '../../test/support/manifests';
import { RallyForgeTenantDefinition, tenantCustomResourceDefinition } from './tenant-crd';

type Schema = {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  'x-kubernetes-validations'?: Array<{ rule: string; message: string }>;
};

/** Every property (and list item) below `schema`, with its path. */
function walk(schema: Schema, path: string, out: Array<[string, Schema]> = []): Array<[string, Schema]> {
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    out.push([`${path}.${name}`, child]);
    walk(child, `${path}.${name}`, out);
  }
  if (schema.items) {
    out.push([`${path}[]`, schema.items]);
    walk(schema.items, `${path}[]`, out);
  }
  return out;
}

describe('RallyForgeTenant CRD', () => {
  const crd = tenantCustomResourceDefinition() as {
    metadata: { name: string };
    spec: { group: string; scope: string; names: Record<string, unknown>; versions: Array<Record<string, any>> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const [version] = crd.spec.versions;
  const root = version.schema.openAPIV3Schema as Schema;
  const spec = root.properties!.spec;

  it('is the cluster-scoped rallyforge.io/v1alpha1 RallyForgeTenant, short name rft', () => {
    expect(crd.metadata.name).toBe('rallyforgetenants.rallyforge.io');
    expect(crd.spec).toMatchObject({ group: 'rallyforge.io', scope: 'Cluster', names: { kind: 'RallyForgeTenant', plural: 'rallyforgetenants', shortNames: ['rft'] } });
    expect(version).toMatchObject({ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } });
  });

  it('shows tier, phase, ready, namespace and age in kubectl get rft', () => {
    expect(version.additionalPrinterColumns.map((c: { name: string; jsonPath: string }) => [c.name, c.jsonPath])).toEqual([
      ['Tier', '.spec.tier'],
      ['Phase', '.status.phase'],
      ['Ready', '.status.conditions[?(@.type=="Ready")].status'],
      ['Namespace', '.status.namespace'],
      ['Age', '.metadata.creationTimestamp'],
    ]);
  });

  it('describes every field (metadata excepted: the API server allows only its type)', () => {
    const undocumented = walk(root, '')
      .filter(([path, s]) => path !== '.metadata' && !s.description)
      .map(([path]) => path);
    expect(undocumented).toEqual([]);
  });

  it('is structural: every property has a type', () => {
    expect(walk(root, '').filter(([, s]) => !s.type).map(([p]) => p)).toEqual([]);
  });

  it('has the spec fields of the tenancy contract, with their defaults', () => {
    expect(Object.keys(spec.properties!)).toEqual(['displayName', 'tier', 'admins', 'quota', 'deletionPolicy', 'network', 'suspend', 'registration']);
    expect(Object.keys(spec.properties!.quota.properties!)).toEqual(['cpu', 'memory', 'pods', 'storage', 'users', 'documentStorageBytes', 'apiRequestsPerMinute']);
    expect(spec.properties!.deletionPolicy).toMatchObject({ enum: ['Retain', 'Delete'], default: 'Retain' });
    expect(spec.properties!.registration).toMatchObject({ enum: ['invite', 'open'], default: 'invite' });
    expect(Object.keys(root.properties!.status.properties!)).toEqual(['phase', 'observedGeneration', 'conditions', 'namespace', 'credentialsSecret']);
  });

  it('validates with CEL: immutable tier, tenant id length and form, quota sanity', () => {
    const rules = (s: Schema) => (s['x-kubernetes-validations'] ?? []).map((v) => v.rule);
    expect(rules(spec.properties!.tier)).toEqual(['self == oldSelf']);
    expect(rules(root)).toEqual(["self.metadata.name.size() <= 40", "self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')"]);
    expect(rules(spec)).toEqual(["self.tier == 'dedicated' || !has(self.quota) || !has(self.quota.storage)"]);
    expect(rules(spec.properties!.quota)).toHaveLength(5);
  });

  it('synthesises as a construct', () => {
    const chart = Testing.chart();
    new RallyForgeTenantDefinition(chart, 'crd');
    expect(Manifests.of(chart).get('CustomResourceDefinition').spec.names.shortNames).toEqual(['rft']);
  });
});
