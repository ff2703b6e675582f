/**
 * The RallyForgeTenant kind as the operator sees it. The schema and the generated types live with the CRD in
 * @rallyforge/cdk8s (cdk8s/src/operator/tenant-crd.ts, tenant-types.generated.ts): one source of truth.
 */
import type { RallyForgeTenantSpec, RallyForgeTenantStatus, TenantCondition } from '@rallyforge/cdk8s';
import type { KubeObject, ResourceType } from '../controller-core';

export type { RallyForgeTenantSpec, RallyForgeTenantStatus, TenantCondition };

export const TENANT_API_GROUP = 'rallyforge.io';
export const TENANT_API_VERSION = `${TENANT_API_GROUP}/v1alpha1`;

export const TENANTS: ResourceType = {
  group: TENANT_API_GROUP,
  version: 'v1alpha1',
  kind: 'RallyForgeTenant',
  plural: 'rallyforgetenants',
  namespaced: false,
};

export const CUSTOM_RESOURCE_DEFINITIONS: ResourceType = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  namespaced: false,
};
export const TENANT_CRD_NAME = `${TENANTS.plural}.${TENANTS.group}`;

export interface RallyForgeTenant extends KubeObject {
  spec: RallyForgeTenantSpec;
  status?: RallyForgeTenantStatus;
}

/** The finalizer that runs the deletion policy before the tenant object goes away. */
export const TENANT_FINALIZER = 'rallyforge.io/tenant-cleanup';

/** Labels on everything the operator creates for a tenant (the operator watches only objects with these). */
export const TENANT_LABEL = 'rallyforge.io/tenant';
export const TIER_LABEL = 'rallyforge.io/tier';
export const PART_OF_LABEL = 'app.kubernetes.io/part-of';

export type ConditionType = 'Namespace' | 'Database' | 'MessageBroker' | 'Cache' | 'Identity' | 'Workloads' | 'Ready';
export const LAYER_CONDITIONS: readonly ConditionType[] = ['Namespace', 'Database', 'MessageBroker', 'Cache', 'Identity', 'Workloads'];

export type TenantPhase = NonNullable<RallyForgeTenantStatus['phase']>;

/** `rf_<id>` style identifiers derived from the tenant id, for systems that dislike dashes. */
export function underscored(tenantId: string): string {
  return tenantId.replace(/-/g, '_');
}
