// Generated from tenant-crd.ts by `npm run gen:tenant-types -w @rallyforge/cdk8s`. Do not edit by hand:
// change the schema and regenerate (tenant-types.spec.ts fails while the two disagree).
/* eslint-disable */

/** One aspect of the tenant's state (metav1.Condition): one per isolation layer, plus the overall Ready. */
export interface TenantCondition {
  /** Condition type: Namespace, Database, MessageBroker, Cache, Identity, Workloads, Ready. */
  type: string;
  /** True, False or Unknown. */
  status: "True" | "False" | "Unknown";
  /** metadata.generation of the tenant this condition was computed from. */
  observedGeneration?: number;
  /** When the status last changed. */
  lastTransitionTime: string;
  /** Machine-readable CamelCase reason for the last transition. */
  reason: string;
  /** Human-readable details, including what to do about a failure. */
  message: string;
}

/** Resource limits of the tenant namespace and per-tenant application limits. */
export interface RallyForgeTenantSpecQuota {
  /** Total CPU requests in the tenant namespace (ResourceQuota requests.cpu), for example "4". */
  cpu?: string;
  /** Total memory requests in the tenant namespace (ResourceQuota requests.memory), for example "8Gi". */
  memory?: string;
  /** Most pods in the tenant namespace. */
  pods?: number;
  /** Total PersistentVolumeClaim storage in the tenant namespace (ResourceQuota requests.storage). Dedicated tier only. */
  storage?: string;
  /** Most users the organisation may have (enforced by auth). */
  users?: number;
  /** Most bytes of uploaded documents (enforced by documents). */
  documentStorageBytes?: number;
  /** Rate limit of the organisation's API requests per minute (enforced by every service). */
  apiRequestsPerMinute?: number;
}

/** Network access to the tenant's workloads beyond the ingress controller, monitoring and the platform. */
export interface RallyForgeTenantSpecNetwork {
  /** Namespaces whose pods may connect to the tenant's workloads. */
  allowedNamespaces?: Array<string>;
}

/** The tenant as its organisation and the platform team describe it. */
export interface RallyForgeTenantSpec {
  /** Name of the organisation as users see it (for example a Veterans Service Organisation). */
  displayName: string;
  /** Isolation tier: shared (pooled: the platform's services and databases, row-level security) or dedicated (silo: its own namespace workloads, databases, vhost and Redis user). Immutable. */
  tier: "shared" | "dedicated";
  /** E-mail addresses of the organisation's first administrators; auth invites them. */
  admins: Array<string>;
  /** Resource limits of the tenant namespace and per-tenant application limits. */
  quota?: RallyForgeTenantSpecQuota;
  /**
   * What deleting the tenant does to its data: Retain keeps the database, vhost and Redis data and disables their logins; Delete removes them.
   * @default "Retain"
   */
  deletionPolicy?: "Retain" | "Delete";
  /** Network access to the tenant's workloads beyond the ingress controller, monitoring and the platform. */
  network?: RallyForgeTenantSpecNetwork;
  /**
   * Stop serving the tenant (logins refused, dedicated workloads scaled to zero) without deleting anything.
   * @default false
   */
  suspend?: boolean;
  /**
   * How users join the organisation: invite (only invited users) or open (anyone may register, as veterans do with their service organisation).
   * @default "invite"
   */
  registration?: "invite" | "open";
}

/** The Secret with the tenant's connection strings (<SERVICE>_DATABASE_URL, AMQP_URL, REDIS_URL), each with the tenant's own user. */
export interface RallyForgeTenantStatusCredentialsSecret {
  /** Namespace of the Secret. */
  namespace: string;
  /** Name of the Secret. */
  name: string;
}

/** What the operator observed and did. Written by the operator only. */
export interface RallyForgeTenantStatus {
  /** Summary of the tenant's lifecycle: Pending, Provisioning, Ready, Suspended, Deleting, Failed. */
  phase?: "Pending" | "Provisioning" | "Ready" | "Suspended" | "Deleting" | "Failed";
  /** metadata.generation the status reflects. */
  observedGeneration?: number;
  /** One condition per isolation layer (Namespace, Database, MessageBroker, Cache, Identity, Workloads) and the overall Ready. */
  conditions?: TenantCondition[];
  /** The tenant namespace (rf-<id>). */
  namespace?: string;
  /** The Secret with the tenant's connection strings (<SERVICE>_DATABASE_URL, AMQP_URL, REDIS_URL), each with the tenant's own user. */
  credentialsSecret?: RallyForgeTenantStatusCredentialsSecret;
}
