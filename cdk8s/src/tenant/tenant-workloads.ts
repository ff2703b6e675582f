/**
 * A dedicated tenant's own copy of the five services, built from the same constructs as the platform chart
 * (RallyForgePlatform → RallyForgeService, DatabaseMigration) with literal values instead of Helm values, and
 * synthesised in memory into plain Kubernetes objects for the operator's server-side apply.
 */
import { ApiObject, App, Chart, ChartProps } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { CHART_VERSION } from '../charts';
import { isQuantity, parseQuantity } from '../common/quantity';
import { TENANT_ID_MAX_LENGTH, TENANT_ID_PATTERN } from '../operator/tenant-crd';
import { DatabaseMigration, MIGRATION_DEFAULTS } from '../platform/database-migration';
import { SERVICE_RESOURCES } from '../platform/platform-chart';
import { Patch } from '../helm/patch';
import { BACKING_SERVICE_DEFAULTS, RallyForgePlatform } from '../platform/rallyforge-platform';
import { NetworkPeer, ResourceRequirements, SERVICE_DEFAULTS } from '../platform/rallyforge-service';
import { DATABASE_SERVICES, SERVICE_NAMES, ServiceName } from '../platform/service-contract';

/** `app.kubernetes.io/managed-by` of every object the operator renders (its field manager too). */
export const TENANT_WORKLOADS_MANAGER = 'rallyforge-operator';
/** The tenant an object belongs to (also on the pods, for dashboards and policies). */
export const TENANT_LABEL = 'rallyforge.io/tenant';
/** The tier of the tenant an object belongs to. */
export const TIER_LABEL = 'rallyforge.io/tier';
/**
 * Marks the dedicated tier's workload objects, so the operator can prune exactly this set (and never the
 * namespace's quota, policies or Secret, which it renders elsewhere) with {@link tenantWorkloadsSelector}.
 */
export const WORKLOADS_LABEL = 'rallyforge.io/workloads';

/**
 * Key, in the tenant's credentials Secret, of the URL the service's migration Job connects with: the owner of the
 * service's database (MIGRATION_DATABASE_URL; the service itself connects as the runtime role of DATABASE_URL).
 */
export function migrationDatabaseUrlKey(service: ServiceName): string {
  return `${service.toUpperCase()}_MIGRATION_DATABASE_URL`;
}

/** Key, in the tenant's credentials Secret, of auth's AUTH_KEY_ENCRYPTION_KEY (32 random bytes, base64). */
export const AUTH_KEY_ENCRYPTION_KEY = 'AUTH_KEY_ENCRYPTION_KEY';

/** Defaults, equal to the platform chart's values where the platform has the same setting. */
export const TENANT_WORKLOADS_DEFAULTS = {
  namespacePrefix: 'rf-',
  namePrefix: 'rallyforge',
  image: { registry: 'ghcr.io', repositoryPrefix: 'rallyforge', pullPolicy: SERVICE_DEFAULTS.imagePullPolicy },
  logLevel: 'info',
  paymentProvider: 'stripe',
  authAudience: 'rallyforge',
  ingressControllerNamespace: 'ingress-nginx',
  monitoringNamespace: 'monitoring',
  platformNamespace: 'rallyforge-system',
  ingressClassName: 'nginx',
  minReplicas: SERVICE_DEFAULTS.autoscaling.minReplicas,
  maxReplicas: SERVICE_DEFAULTS.autoscaling.maxReplicas,
} as const;

/** Labels of every object of one tenant's workloads. */
export function tenantWorkloadsLabels(tenantId: string): Record<string, string> {
  return {
    'app.kubernetes.io/managed-by': TENANT_WORKLOADS_MANAGER,
    'app.kubernetes.io/part-of': 'rallyforge',
    [TENANT_LABEL]: tenantId,
    [TIER_LABEL]: 'dedicated',
    [WORKLOADS_LABEL]: 'true',
  };
}

/** Label selector of one tenant's workload objects: list with it, and prune what is not in the rendered set. */
export function tenantWorkloadsSelector(tenantId: string): string {
  return Object.entries(tenantWorkloadsLabels(tenantId))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

/** Where the images come from: `<registry>/<repositoryPrefix>/<service>:<tag>`. */
export interface TenantImageOptions {
  /** @default 'ghcr.io' */
  readonly registry?: string;
  /** @default 'rallyforge' */
  readonly repositoryPrefix?: string;
  /** @default the package version (the platform chart's appVersion) */
  readonly tag?: string;
  /** @default 'IfNotPresent' */
  readonly pullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
}

/** The documents service's volume (the platform chart's `documentsStorage`, literal values only). */
export interface TenantDocumentsStorage {
  /** `emptyDir` (lost with the pod) or `persistentVolumeClaim` (counted in `quota.storage`). @default 'emptyDir' */
  readonly type?: 'emptyDir' | 'persistentVolumeClaim';
  /** PVC size, or emptyDir size limit. @default '10Gi' */
  readonly size?: string;
  /** StorageClass of the PVC; '' for the cluster default. @default '' */
  readonly storageClassName?: string;
  /** Access mode of the PVC; several replicas on several nodes need ReadWriteMany. @default 'ReadWriteMany' */
  readonly accessMode?: string;
}

/** The part of the tenant's `spec.quota` that bounds its workloads (extra fields of the spec are ignored). */
export interface TenantWorkloadsQuota {
  /** ResourceQuota `pods`. */
  readonly pods?: number;
  /** ResourceQuota `requests.cpu`. */
  readonly cpu?: string;
  /** ResourceQuota `requests.memory`. */
  readonly memory?: string;
  /** ResourceQuota `requests.storage` (a documents PersistentVolumeClaim must fit). */
  readonly storage?: string;
}

export interface TenantWorkloadsOptions {
  /** The tenant id (the RallyForgeTenant's metadata.name). */
  readonly tenantId: string;
  /** @default `rf-<tenantId>` */
  readonly namespace?: string;
  /**
   * The Secret in the tenant namespace with the tenant's own connection strings: `<SERVICE>_DATABASE_URL` and
   * `<SERVICE>_MIGRATION_DATABASE_URL` (SERVICE = AUTH, CLAIMS, PAYMENTS, DOCUMENTS), `AMQP_URL`, `REDIS_URL`, and
   * {@link AUTH_KEY_ENCRYPTION_KEY}. A missing key keeps the pods that need it in CreateContainerConfigError until it
   * appears (the kubelet retries), so the Secret can be completed after the workloads are applied.
   */
  readonly credentialsSecretName: string;
  /** @default - the platform chart's images, tag = this package's version ('' counts as unset) */
  readonly image?: TenantImageOptions;
  /** `spec.suspend`: every Deployment at 0 replicas, no HorizontalPodAutoscaler, no migration Job. @default false */
  readonly suspended?: boolean;
  /** `spec.quota`: autoscaling bounds are derived from it so that the worst case fits the ResourceQuota. @default {} */
  readonly quota?: TenantWorkloadsQuota;
  /**
   * Upper and lower autoscaling bounds per service before the quota lowers them.
   * @default 3 to 10 (the platform's)
   */
  readonly autoscaling?: { readonly minReplicas?: number; readonly maxReplicas?: number };
  /** `spec.network.allowedNamespaces`: namespaces whose pods may connect to the services. @default [] */
  readonly allowedNamespaces?: readonly string[];
  /** Namespace of the shared platform, admitted like the allowed namespaces; '' for none. @default 'rallyforge-system' */
  readonly platformNamespace?: string;
  /** Namespace of the ingress controller; '' for none. @default 'ingress-nginx' */
  readonly ingressControllerNamespace?: string;
  /** Namespace of Prometheus; '' for none. @default 'monitoring' */
  readonly monitoringNamespace?: string;
  /**
   * The tenant's public host. When set: Ingresses for it (`/api/v1/<service>`, `/ws`), CORS_ORIGINS and AUTH_ISSUER
   * `https://<host>`. When not: no Ingress, no browser origin, AUTH_ISSUER `urn:rallyforge:tenant:<id>`.
   * @default - none
   */
  readonly host?: string;
  /** IngressClass of the Ingresses ('' for the cluster default). @default 'nginx' */
  readonly ingressClassName?: string;
  /** TLS Secret of the Ingresses, in the tenant namespace. @default - plain HTTP at the ingress */
  readonly tlsSecretName?: string;
  /** LOG_LEVEL. @default 'info' */
  readonly logLevel?: string;
  /** PAYMENT_PROVIDER of payments. @default 'stripe' (the platform chart's) */
  readonly paymentProvider?: string;
  /** @default - emptyDir (the platform chart's default) */
  readonly documentsStorage?: TenantDocumentsStorage;
  /** Create prometheus-operator ServiceMonitors (the cluster must serve monitoring.coreos.com/v1). @default false */
  readonly serviceMonitor?: boolean;
  /** Secrets (in the tenant namespace) for pulling from a private registry. @default [] */
  readonly imagePullSecrets?: readonly string[];
  /** Container resources per service. @default - the platform chart's */
  readonly resources?: Partial<Record<ServiceName, ResourceRequirements>>;
}

/** Why rendering failed: options the operator must refuse (`InvalidOptions`) or a quota too small (`QuotaTooSmall`). */
export class TenantWorkloadsError extends Error {
  public constructor(
    message: string,
    /** A CamelCase reason for the tenant's Workloads condition. */
    public readonly reason: 'InvalidOptions' | 'QuotaTooSmall',
  ) {
    super(message);
    this.name = 'TenantWorkloadsError';
  }
}

/** Replica bounds of every service and the worst case they add up to. */
export interface TenantReplicaPlan {
  /** 0 when suspended. */
  readonly minReplicas: number;
  /** 0 when suspended. */
  readonly maxReplicas: number;
  /**
   * Worst case the namespace must hold: every service at maxReplicas rolling out at once (25 % surge, rounded up)
   * while every migration Job runs.
   */
  readonly worstCase: { readonly pods: number; readonly cpuMillis: number; readonly memoryBytes: number };
}

/** A Kubernetes object as synthesised. */
export interface KubernetesManifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** What {@link renderTenantWorkloads} returns. */
export interface TenantWorkloads {
  readonly tenantId: string;
  readonly namespace: string;
  /** Every object, in apply order (policies and accounts before the pods that need them); deterministic. */
  readonly objects: KubernetesManifest[];
  /** Names of the five Deployments (Available = the workloads serve). */
  readonly deployments: string[];
  /** Names of the migration Jobs (empty when suspended); a Failed one must be deleted to be retried. */
  readonly migrationJobs: string[];
  /** Labels on every object. */
  readonly labels: Record<string, string>;
  /** {@link tenantWorkloadsSelector}: list with it and prune what `objects` no longer contains. */
  readonly selector: string;
  readonly replicas: TenantReplicaPlan;
}

/** Kinds in the order they are best applied. */
const APPLY_ORDER = [
  'NetworkPolicy',
  'ServiceAccount',
  'PersistentVolumeClaim',
  'Service',
  'Job',
  'Deployment',
  'PodDisruptionBudget',
  'HorizontalPodAutoscaler',
  'Ingress',
  'ServiceMonitor',
];

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const REGISTRY = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]+)?(\/[a-z0-9]([-a-z0-9._]*[a-z0-9])?)*$/;
const REPOSITORY_PATH = /^[a-z0-9]([-a-z0-9._/]*[a-z0-9])?$/;
const HOSTNAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * One dedicated tenant's workloads as a cdk8s Chart: every object in the tenant namespace, labelled with
 * {@link tenantWorkloadsLabels}. {@link renderTenantWorkloads} synthesises it in memory.
 */
export class TenantWorkloadsChart extends Chart {
  public readonly tenantId: string;
  public readonly platform: RallyForgePlatform;
  public readonly migrations: DatabaseMigration[] = [];
  public readonly replicaPlan: TenantReplicaPlan;

  public constructor(scope: Construct, id: string, options: TenantWorkloadsOptions) {
    super(scope, id, chartProps(options));
    const namespace = String(this.namespace);
    this.tenantId = options.tenantId;
    const d = TENANT_WORKLOADS_DEFAULTS;
    const suspended = options.suspended ?? false;
    const namePrefix = d.namePrefix;
    // Empty strings count as unset, as in the operator's settings (DEDICATED_IMAGE_TAG= means the default).
    const image = {
      registry: options.image?.registry || d.image.registry,
      repositoryPrefix: options.image?.repositoryPrefix || d.image.repositoryPrefix,
      tag: options.image?.tag || CHART_VERSION,
      pullPolicy: options.image?.pullPolicy || d.image.pullPolicy,
    };
    const resources = Object.fromEntries(SERVICE_NAMES.map((s) => [s, options.resources?.[s] ?? SERVICE_RESOURCES[s]])) as Record<ServiceName, ResourceRequirements>;
    this.replicaPlan = planTenantReplicas({ ...options, resources, suspended });
    validateStorage(options);

    const secret = options.credentialsSecretName;
    const ref = (key: string) => ({ secretName: secret, key });
    const databaseUrls = Object.fromEntries(DATABASE_SERVICES.map((s) => [s, ref(BACKING_SERVICE_DEFAULTS.databaseUrlKey(s))]));
    const host = options.host;
    const peer = (ns: string): NetworkPeer | null => (ns ? { namespaceLabels: { 'kubernetes.io/metadata.name': ns }, podLabels: {} } : null);
    const platformNamespace = options.platformNamespace ?? d.platformNamespace;
    const { minReplicas, maxReplicas } = this.replicaPlan;
    const logLevel = options.logLevel ?? d.logLevel;
    const authKeyEnv = [{ name: AUTH_KEY_ENCRYPTION_KEY, valueFrom: { secretKeyRef: { name: secret, key: AUTH_KEY_ENCRYPTION_KEY } } }];

    this.platform = new RallyForgePlatform(this, 'Platform', {
      namePrefix,
      instance: namespace,
      image,
      services: Object.fromEntries(
        SERVICE_NAMES.map((s) => [
          s,
          {
            replicas: suspended ? 0 : minReplicas,
            autoscaling: suspended ? { enabled: false } : { enabled: true, minReplicas, maxReplicas },
            resources: resources[s],
            extraEnv: s === 'auth' ? authKeyEnv : undefined,
          },
        ]),
      ),
      pod: options.imagePullSecrets?.length ? { imagePullSecrets: options.imagePullSecrets.map((name) => ({ name })) } : undefined,
      config: {
        logLevel,
        corsOrigins: host ? `https://${host}` : '',
        authIssuer: host ? `https://${host}` : `urn:rallyforge:tenant:${options.tenantId}`,
        authAudience: d.authAudience,
        tenancyMode: 'dedicated',
        tenantId: options.tenantId,
      },
      backingServices: { databaseUrls, redisUrl: ref(BACKING_SERVICE_DEFAULTS.redisUrlKey), amqpUrl: ref(BACKING_SERVICE_DEFAULTS.amqpUrlKey) },
      documentsStorage: options.documentsStorage,
      paymentProvider: options.paymentProvider ?? d.paymentProvider,
      ingress: {
        enabled: host !== undefined,
        host: host ?? `${options.tenantId}.invalid`,
        className: options.ingressClassName ?? d.ingressClassName,
        tls: options.tlsSecretName ? { enabled: true, secretName: options.tlsSecretName } : undefined,
      },
      // Plain Jobs below instead of the chart's Helm hooks.
      migrations: { enabled: false },
      networkPolicy: {
        ingressController: peer(options.ingressControllerNamespace ?? d.ingressControllerNamespace),
        monitoring: peer(options.monitoringNamespace ?? d.monitoringNamespace),
        allowedNamespaces: [...(platformNamespace ? [platformNamespace] : []), ...(options.allowedNamespaces ?? [])],
      },
      serviceMonitor: { enabled: options.serviceMonitor ?? false },
    });

    if (!suspended) {
      for (const service of DATABASE_SERVICES) {
        this.migrations.push(
          new DatabaseMigration(this, `${service}-migration`, {
            service,
            image: `${image.registry}/${image.repositoryPrefix}/${service}:${image.tag}`,
            imagePullPolicy: image.pullPolicy,
            namePrefix,
            instance: namespace,
            databaseUrl: ref(BACKING_SERVICE_DEFAULTS.databaseUrlKey(service)),
            migrationDatabaseUrl: ref(migrationDatabaseUrlKey(service)),
            env: { LOG_LEVEL: kplus.EnvValue.fromValue(logLevel) },
            helmHook: false,
            backoffLimit: MIGRATION_DEFAULTS.backoffLimit,
            activeDeadlineSeconds: MIGRATION_DEFAULTS.activeDeadlineSeconds,
            imagePullSecrets: options.imagePullSecrets?.map((name) => ({ name })),
          }),
        );
      }
    }

    // The tenant label on the pods too (dashboards, policies); selectors stay as the platform's.
    const podObjects = [
      ...SERVICE_NAMES.map((s) => ApiObject.of(this.platform.services[s].deployment)),
      ...this.migrations.map((m) => ApiObject.of(m.job)),
    ];
    for (const obj of podObjects) {
      Patch.add(obj, `/spec/template/metadata/labels/${TENANT_LABEL.replace('/', '~1')}`, options.tenantId);
    }
  }

  /** Every object of the chart, synthesised, in {@link APPLY_ORDER}. */
  public manifests(): KubernetesManifest[] {
    const objects = this.toJson() as KubernetesManifest[];
    const rank = (kind: string) => {
      const i = APPLY_ORDER.indexOf(kind);
      return i === -1 ? APPLY_ORDER.length : i;
    };
    const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    return [...objects].sort((a, b) => rank(a.kind) - rank(b.kind) || byName(a.metadata.name, b.metadata.name));
  }
}

/**
 * Renders one dedicated tenant's workloads as plain Kubernetes objects, in memory (nothing is written).
 * Deterministic: the same options give the same objects, so re-applying them is a no-op.
 * @throws TenantWorkloadsError for invalid options or a quota too small for the workloads
 */
export function renderTenantWorkloads(options: TenantWorkloadsOptions): TenantWorkloads {
  const app = new App({ outdir: '/nonexistent-cdk8s-outdir' });
  const chart = new TenantWorkloadsChart(app, `tenant-${options.tenantId}`, options);
  const objects = chart.manifests();
  const names = (kind: string) => objects.filter((o) => o.kind === kind).map((o) => o.metadata.name);
  return {
    tenantId: options.tenantId,
    namespace: String(chart.namespace),
    objects,
    deployments: names('Deployment'),
    migrationJobs: names('Job'),
    labels: tenantWorkloadsLabels(options.tenantId),
    selector: tenantWorkloadsSelector(options.tenantId),
    replicas: chart.replicaPlan,
  };
}

/**
 * Autoscaling bounds that fit the quota: the largest maxReplicas (at most `autoscaling.maxReplicas`) for which the
 * worst case (every service at maxReplicas plus its rolling-update surge, every migration Job running) stays
 * within `quota.pods`, `quota.cpu` and `quota.memory` (requests); minReplicas is the configured one, lowered to it.
 * @throws TenantWorkloadsError (`QuotaTooSmall`) when not even one replica per service fits
 */
export function planTenantReplicas(input: {
  readonly quota?: TenantWorkloadsQuota;
  readonly suspended?: boolean;
  readonly autoscaling?: { readonly minReplicas?: number; readonly maxReplicas?: number };
  readonly resources?: Partial<Record<ServiceName, ResourceRequirements>>;
}): TenantReplicaPlan {
  const ceilingMax = input.autoscaling?.maxReplicas ?? TENANT_WORKLOADS_DEFAULTS.maxReplicas;
  const configuredMin = input.autoscaling?.minReplicas ?? TENANT_WORKLOADS_DEFAULTS.minReplicas;
  if (!Number.isInteger(configuredMin) || configuredMin < 1 || !Number.isInteger(ceilingMax) || ceilingMax < configuredMin) {
    throw new TenantWorkloadsError(
      `autoscaling: minReplicas (${configuredMin}) must be an integer >= 1 and maxReplicas (${ceilingMax}) an integer >= minReplicas.`,
      'InvalidOptions',
    );
  }
  const requests = (service: ServiceName) => (input.resources?.[service] ?? SERVICE_RESOURCES[service]).requests ?? {};
  const millis = (q: string | undefined) => (q === undefined ? 0 : Math.round(parseQuantity(q) * 1000));
  const bytes = (q: string | undefined) => (q === undefined ? 0 : Math.round(parseQuantity(q)));
  const migration = MIGRATION_DEFAULTS.resources.requests ?? {};
  const worstCase = (max: number, migrations: boolean) => {
    const podsPerService = max + Math.ceil(max * 0.25);
    const jobs = migrations ? DATABASE_SERVICES.length : 0;
    return {
      pods: SERVICE_NAMES.length * podsPerService + jobs,
      cpuMillis: SERVICE_NAMES.reduce((sum, s) => sum + podsPerService * millis(requests(s).cpu), 0) + jobs * millis(migration.cpu),
      memoryBytes: SERVICE_NAMES.reduce((sum, s) => sum + podsPerService * bytes(requests(s).memory), 0) + jobs * bytes(migration.memory),
    };
  };
  if (input.suspended) {
    return { minReplicas: 0, maxReplicas: 0, worstCase: worstCase(0, false) };
  }
  const quota = input.quota ?? {};
  const limits = {
    pods: quota.pods,
    cpuMillis: quota.cpu === undefined ? undefined : millis(quota.cpu),
    memoryBytes: quota.memory === undefined ? undefined : bytes(quota.memory),
  };
  const fits = (w: TenantReplicaPlan['worstCase']) =>
    (limits.pods === undefined || w.pods <= limits.pods) &&
    (limits.cpuMillis === undefined || w.cpuMillis <= limits.cpuMillis) &&
    (limits.memoryBytes === undefined || w.memoryBytes <= limits.memoryBytes);
  for (let max = ceilingMax; max >= 1; max--) {
    const w = worstCase(max, true);
    if (fits(w)) {
      return { minReplicas: Math.min(configuredMin, max), maxReplicas: max, worstCase: w };
    }
  }
  const need = worstCase(1, true);
  throw new TenantWorkloadsError(
    `The tenant's quota is too small for the dedicated tier's workloads: one replica of each of the ${SERVICE_NAMES.length} services, ` +
      `its rolling-update surge and the ${DATABASE_SERVICES.length} migration Jobs need at least pods ${need.pods}, ` +
      `cpu ${need.cpuMillis}m and memory ${Math.ceil(need.memoryBytes / 2 ** 20)}Mi of requests ` +
      `(spec.quota is pods ${quota.pods ?? 'unlimited'}, cpu ${quota.cpu ?? 'unlimited'}, memory ${quota.memory ?? 'unlimited'}). ` +
      'Raise spec.quota.',
    'QuotaTooSmall',
  );
}

/** Namespace and labels of the chart, once the options are known to be valid. */
function chartProps(options: TenantWorkloadsOptions): ChartProps {
  const namespace = options.namespace ?? `${TENANT_WORKLOADS_DEFAULTS.namespacePrefix}${options.tenantId}`;
  validateOptions(options, namespace);
  return { namespace, labels: tenantWorkloadsLabels(options.tenantId) };
}

function validateOptions(options: TenantWorkloadsOptions, namespace: string): void {
  const problems: string[] = [];
  const id = options.tenantId;
  if (typeof id !== 'string' || id.length > TENANT_ID_MAX_LENGTH || !new RegExp(TENANT_ID_PATTERN).test(id)) {
    problems.push(`tenantId "${id}" must be a lowercase DNS label of at most ${TENANT_ID_MAX_LENGTH} characters starting with a letter`);
  }
  const label = (what: string, value: string | undefined, allowEmpty = false) => {
    if (value === undefined || (allowEmpty && value === '')) return;
    if (value.length > 63 || !DNS_LABEL.test(value)) problems.push(`${what} "${value}" is not a namespace name (a DNS-1123 label)`);
  };
  label('namespace', namespace);
  label('platformNamespace', options.platformNamespace, true);
  label('ingressControllerNamespace', options.ingressControllerNamespace, true);
  label('monitoringNamespace', options.monitoringNamespace, true);
  (options.allowedNamespaces ?? []).forEach((ns) => label('allowedNamespaces entry', ns));
  if (!options.credentialsSecretName || options.credentialsSecretName.length > 253 || !DNS_SUBDOMAIN.test(options.credentialsSecretName)) {
    problems.push(`credentialsSecretName "${options.credentialsSecretName}" is not a Secret name (a DNS-1123 subdomain)`);
  }
  (options.imagePullSecrets ?? []).forEach((name) => {
    if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) problems.push(`imagePullSecrets entry "${name}" is not a Secret name`);
  });
  const image = options.image ?? {};
  if (image.tag && !IMAGE_TAG.test(image.tag)) problems.push(`image.tag "${image.tag}" is not an image tag`);
  if (image.registry && !REGISTRY.test(image.registry)) problems.push(`image.registry "${image.registry}" is not a registry host`);
  if (image.repositoryPrefix && !REPOSITORY_PATH.test(image.repositoryPrefix)) problems.push(`image.repositoryPrefix "${image.repositoryPrefix}" is not a repository path`);
  if (image.pullPolicy && !['Always', 'IfNotPresent', 'Never'].includes(image.pullPolicy)) {
    problems.push(`image.pullPolicy "${image.pullPolicy}" must be Always, IfNotPresent or Never`);
  }
  if (options.host !== undefined && (options.host.length > 253 || !HOSTNAME.test(options.host))) problems.push(`host "${options.host}" is not a host name`);
  if (options.tlsSecretName !== undefined && options.host === undefined) problems.push('tlsSecretName needs a host: the Ingress is only rendered for a host');
  const quota = options.quota ?? {};
  for (const key of ['cpu', 'memory', 'storage'] as const) {
    const value = quota[key];
    if (value !== undefined && (!isQuantity(value) || parseQuantity(value) <= 0)) problems.push(`quota.${key} "${value}" is not a positive Kubernetes quantity`);
  }
  if (quota.pods !== undefined && (!Number.isInteger(quota.pods) || quota.pods < 1)) problems.push(`quota.pods ${quota.pods} must be a positive integer`);
  if (problems.length > 0) {
    throw new TenantWorkloadsError(`Cannot render the workloads of tenant "${id}": ${problems.join('; ')}.`, 'InvalidOptions');
  }
}

function validateStorage(options: TenantWorkloadsOptions): void {
  const storage = options.documentsStorage;
  const quota = options.quota?.storage;
  if (storage?.type !== 'persistentVolumeClaim' || quota === undefined) return;
  const size = storage.size ?? '10Gi';
  if (!isQuantity(size) || parseQuantity(size) > parseQuantity(quota)) {
    throw new TenantWorkloadsError(
      `documentsStorage.size ${size} does not fit spec.quota.storage ${quota}: lower the documents volume or raise the quota.`,
      'QuotaTooSmall',
    );
  }
}
