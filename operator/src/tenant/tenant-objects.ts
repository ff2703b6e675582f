/**
 * The Kubernetes layer of a tenant: its namespace and what isolates it (quota, limits, network policies, RBAC),
 * as apply configurations. Pure: the reconciler applies what differs from the cluster.
 */
import { MANAGED_BY_LABEL, NAMESPACES, OPERATOR_FIELD_MANAGER, SECRETS, type KubeObject, type ResourceType } from '../controller-core';
import { LIMIT_RANGES, NETWORK_POLICIES, RESOURCE_QUOTAS, ROLE_BINDINGS, ROLES } from './kinds';
import type { TenantSettings } from './operator-settings';
import { canonicalQuantity } from './quantity';
import { PART_OF_LABEL, TENANT_LABEL, TIER_LABEL, type RallyForgeTenant } from './tenant-api';

export interface DesiredObject {
  resource: ResourceType;
  object: KubeObject & Record<string, unknown>;
}

export const CREDENTIALS_SECRET = 'rallyforge-tenant-credentials';
export const QUOTA_NAME = 'tenant-quota';

/** Namespace quotas when the spec sets none: a shared tenant runs only jobs; a dedicated one runs five services. */
export const DEFAULT_QUOTA = {
  shared: { cpu: '1', memory: '2Gi', pods: 10 },
  dedicated: { cpu: '8', memory: '16Gi', pods: 60, storage: '50Gi' },
} as const;

export function tenantNamespace(tenantId: string, settings: TenantSettings): string {
  return `${settings.namespacePrefix}${tenantId}`;
}

export function tenantLabels(tenant: RallyForgeTenant): Record<string, string> {
  return {
    [MANAGED_BY_LABEL]: OPERATOR_FIELD_MANAGER,
    [PART_OF_LABEL]: 'rallyforge',
    [TENANT_LABEL]: tenant.metadata.name!,
    [TIER_LABEL]: tenant.spec.tier,
  };
}

/** The label selector of everything the operator creates for any tenant. */
export const TENANT_OBJECTS_SELECTOR = `${MANAGED_BY_LABEL}=${OPERATOR_FIELD_MANAGER},${TENANT_LABEL}`;

export function namespaceObjects(tenant: RallyForgeTenant, settings: TenantSettings, secretData: Record<string, string>): DesiredObject[] {
  const id = tenant.metadata.name!;
  const namespace = tenantNamespace(id, settings);
  const labels = tenantLabels(tenant);
  const meta = (name: string) => ({ name, namespace, labels });
  const tier = tenant.spec.tier;
  const quota = { ...DEFAULT_QUOTA[tier], ...stripUndefined({ cpu: tenant.spec.quota?.cpu, memory: tenant.spec.quota?.memory, pods: tenant.spec.quota?.pods, storage: tenant.spec.quota?.storage }) };
  // In the API server's spelling (0.5 is stored as 500m): compared with the live object, any other would be applied
  // again on every reconcile.
  const hard: Record<string, string> = {
    'requests.cpu': canonicalQuantity(String(quota.cpu)),
    'requests.memory': canonicalQuantity(String(quota.memory)),
    pods: String(quota.pods),
  };
  if (tier === 'dedicated' && 'storage' in quota && quota.storage) hard['requests.storage'] = canonicalQuantity(String(quota.storage));
  if (tier === 'shared') hard['persistentvolumeclaims'] = '0';

  const fromNamespaces = [settings.ingressControllerNamespace, settings.monitoringNamespace, settings.platformNamespace, ...(tenant.spec.network?.allowedNamespaces ?? [])];
  const uniqueNamespaces = [...new Set(fromNamespaces)];

  const objects: DesiredObject[] = [
    {
      resource: NAMESPACES,
      object: {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: namespace,
          labels: {
            ...labels,
            // The restricted Pod Security Standard: the services run as non-root with a read-only root filesystem.
            'pod-security.kubernetes.io/enforce': 'restricted',
            'pod-security.kubernetes.io/warn': 'restricted',
          },
        },
      },
    },
    { resource: RESOURCE_QUOTAS, object: { apiVersion: 'v1', kind: 'ResourceQuota', metadata: meta(QUOTA_NAME), spec: { hard } } },
    {
      resource: LIMIT_RANGES,
      object: {
        apiVersion: 'v1',
        kind: 'LimitRange',
        metadata: meta('tenant-defaults'),
        spec: {
          limits: [
            {
              type: 'Container',
              default: { cpu: '500m', memory: '512Mi' },
              defaultRequest: { cpu: '100m', memory: '128Mi' },
              max: { cpu: '2', memory: '4Gi' },
            },
          ],
        },
      },
    },
    {
      resource: NETWORK_POLICIES,
      object: {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: meta('default-deny'),
        spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
      },
    },
    {
      resource: NETWORK_POLICIES,
      object: {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: meta('allow-same-namespace'),
        spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [{ from: [{ podSelector: {} }] }], egress: [{ to: [{ podSelector: {} }] }] },
      },
    },
    {
      resource: NETWORK_POLICIES,
      object: {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: meta('allow-platform-ingress'),
        spec: {
          podSelector: {},
          policyTypes: ['Ingress'],
          ingress: [{ from: uniqueNamespaces.map((ns) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } })) }],
        },
      },
    },
    {
      resource: NETWORK_POLICIES,
      object: {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: meta('allow-egress'),
        spec: {
          podSelector: {},
          policyTypes: ['Egress'],
          egress: [
            {
              to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
              ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
            },
            { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': settings.platformNamespace } } }] },
            ...(settings.backingServiceCidrs.length ? [{ to: settings.backingServiceCidrs.map((cidr) => ({ ipBlock: { cidr } })) }] : []),
          ],
        },
      },
    },
    {
      resource: ROLES,
      object: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: meta('tenant-admin'),
        // Read-only operations view of the tenant's own namespace; no Secrets (connection strings stay with the platform team).
        rules: [
          { apiGroups: [''], resources: ['pods', 'pods/log', 'services', 'events', 'configmaps', 'resourcequotas', 'limitranges'], verbs: ['get', 'list', 'watch'] },
          { apiGroups: ['apps'], resources: ['deployments', 'replicasets'], verbs: ['get', 'list', 'watch'] },
          { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch'] },
        ],
      },
    },
    {
      resource: ROLE_BINDINGS,
      object: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: meta('tenant-admins'),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'tenant-admin' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: `rallyforge:tenant:${id}:admins` }],
      },
    },
    {
      resource: SECRETS,
      object: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: meta(CREDENTIALS_SECRET),
        type: 'Opaque',
        data: Object.fromEntries(Object.entries(secretData).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
      },
    },
  ];
  return objects;
}

function stripUndefined<T extends Record<string, unknown>>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as Partial<T>;
}
