/** What the tenant reconciler needs to know about the cluster it runs in (from the operator's environment). */
export interface TenantSettings {
  /** Tenant namespaces are `<prefix><id>`. @default 'rf-' */
  namespacePrefix: string;
  /** Namespace of the platform's services (allowed to reach tenant workloads). */
  platformNamespace: string;
  ingressControllerNamespace: string;
  monitoringNamespace: string;
  /** CIDRs of backing services outside the cluster (PostgreSQL, RabbitMQ, Redis) that tenant pods may reach. */
  backingServiceCidrs: string[];
  /** Whether the dedicated tier may be provisioned here (workloads need an image registry and real nodes). */
  dedicatedTenants: boolean;
  /** Periodic resync: external systems (grants, vhost permissions, ACL rules) are re-checked this often. */
  resyncPeriodMs: number;
  /**
   * Reconcile only tenants matching this label selector (empty: all). Lets two operators share a cluster without
   * fighting, e.g. the local platform's (`!rallyforge.io/test-run`) and a test suite's.
   */
  tenantSelector: string;
  /** How long the finalizer keeps retrying a failing cleanup before it gives up (loudly) and lets the tenant go. */
  deletionTimeoutMs: number;
}

export const DEFAULT_TENANT_SETTINGS: TenantSettings = {
  namespacePrefix: 'rf-',
  platformNamespace: 'rallyforge',
  ingressControllerNamespace: 'ingress-nginx',
  monitoringNamespace: 'monitoring',
  backingServiceCidrs: [],
  dedicatedTenants: true,
  resyncPeriodMs: 10 * 60_000,
  deletionTimeoutMs: 10 * 60_000,
  tenantSelector: '',
};
