import type { ResourceType } from '../controller-core';
import { NAMESPACES, SECRETS } from '../controller-core';

const core = (kind: string, plural: string, namespaced = true): ResourceType => ({ group: '', version: 'v1', kind, plural, namespaced });

export const RESOURCE_QUOTAS = core('ResourceQuota', 'resourcequotas');
export const LIMIT_RANGES = core('LimitRange', 'limitranges');
export const SERVICES = core('Service', 'services');
export const SERVICE_ACCOUNTS = core('ServiceAccount', 'serviceaccounts');
export const CONFIG_MAPS_KIND = core('ConfigMap', 'configmaps');
export const NETWORK_POLICIES: ResourceType = { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true };
export const ROLES: ResourceType = { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role', plural: 'roles', namespaced: true };
export const ROLE_BINDINGS: ResourceType = { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding', plural: 'rolebindings', namespaced: true };
export const DEPLOYMENTS: ResourceType = { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true };
export const JOBS: ResourceType = { group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs', namespaced: true };
export const HORIZONTAL_POD_AUTOSCALERS: ResourceType = { group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers', namespaced: true };
export const POD_DISRUPTION_BUDGETS: ResourceType = { group: 'policy', version: 'v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets', namespaced: true };
export const PERSISTENT_VOLUME_CLAIMS = core('PersistentVolumeClaim', 'persistentvolumeclaims');
export const INGRESSES: ResourceType = { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress', plural: 'ingresses', namespaced: true };
export const SERVICE_MONITORS: ResourceType = { group: 'monitoring.coreos.com', version: 'v1', kind: 'ServiceMonitor', plural: 'servicemonitors', namespaced: true };

/** Every kind the tenant reconciler creates; the operator watches each (label-selected) to put drift back. */
export const NAMESPACE_LAYER_KINDS: readonly ResourceType[] = [NAMESPACES, RESOURCE_QUOTAS, LIMIT_RANGES, NETWORK_POLICIES, ROLES, ROLE_BINDINGS, SECRETS];
export const WORKLOAD_KINDS: readonly ResourceType[] = [
  DEPLOYMENTS, SERVICES, SERVICE_ACCOUNTS, CONFIG_MAPS_KIND, JOBS, HORIZONTAL_POD_AUTOSCALERS, POD_DISRUPTION_BUDGETS, PERSISTENT_VOLUME_CLAIMS, INGRESSES, SERVICE_MONITORS,
];

const ALL = [...NAMESPACE_LAYER_KINDS, ...WORKLOAD_KINDS];

/** The ResourceType of a manifest's apiVersion/kind (autoscaling/v2 and v1 HPAs both map to v2). */
export function kindOf(apiVersion: string, kind: string): ResourceType {
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
  const found = ALL.find((k) => k.kind === kind && k.group === group);
  if (!found) throw new Error(`The tenant reconciler does not manage ${apiVersion} ${kind}: add it to operator/src/tenant/kinds.ts (and the operator's RBAC).`);
  return found;
}
