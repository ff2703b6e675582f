import { App } from 'cdk8s';
import { HelmChart } from '../helm/helm-chart';
import { Helm } from '../helm/helm-token';
import { HelmValue, HelmValues } from '../helm/helm-values';
import * as schemas from '../helm/schemas';
import { MIGRATION_DEFAULTS } from './database-migration';
import { DEVELOPMENT_DEFAULTS, helmDevelopmentPassword } from './development-backing-services';
import { BACKING_SERVICE_DEFAULTS, DEFAULT_TRUSTED_PROXY_CIDRS, PlatformServiceOptions, RallyForgePlatform } from './rallyforge-platform';
import { ProbeTimings, SERVICE_DEFAULTS, ServiceProbes } from './rallyforge-service';
import { DATABASE_SERVICES, SERVICE_NAMES, ServiceName } from './service-contract';

export const PLATFORM_CHART_NAME = 'rallyforge';

/** Resource defaults per service (also a dedicated tenant's); documents handles uploads and needs more memory. */
export const SERVICE_RESOURCES: Record<ServiceName, typeof SERVICE_DEFAULTS.resources> = {
  auth: SERVICE_DEFAULTS.resources,
  claims: SERVICE_DEFAULTS.resources,
  payments: SERVICE_DEFAULTS.resources,
  documents: { requests: { cpu: '100m', memory: '384Mi' }, limits: { cpu: '1', memory: '768Mi' } },
  realtime: SERVICE_DEFAULTS.resources,
};

export interface PlatformChartProps {
  /** Chart version and default image tag. */
  readonly appVersion: string;
}

/**
 * The `rallyforge` Helm chart: RallyForgePlatform with every tunable bound to a documented,
 * schema-checked value.
 */
export class RallyForgePlatformChart extends HelmChart {
  public readonly platform: RallyForgePlatform;

  public constructor(scope: App, id: string, props: PlatformChartProps) {
    super(scope, id, {
      chartName: PLATFORM_CHART_NAME,
      description: 'RallyForge: claims, evidence, payments and live updates for organisations that help veterans with their benefits.',
      appVersion: props.appVersion,
      keywords: ['rallyforge', 'veterans', 'claims', 'nestjs'],
    });
    const v = this.values;

    v.section('image', 'Service images: <registry>/<repositoryPrefix>/<service>:<tag>.');
    const registry = v.string('image.registry', 'ghcr.io', { description: 'Registry host (and optional path) of the service images.', schema: schemas.REGISTRY });
    const repositoryPrefix = v.string('image.repositoryPrefix', 'rallyforge', { description: 'Repository path between the registry and the service name.', schema: schemas.REPOSITORY_PATH });
    const tag = v.string('image.tag', '', { description: "Image tag of all five services; empty means the chart's appVersion.", schema: schemas.IMAGE_TAG });
    const pullPolicy = v.string('image.pullPolicy', SERVICE_DEFAULTS.imagePullPolicy, { description: 'imagePullPolicy of every container.', schema: schemas.PULL_POLICY });
    const imagePullSecrets = v.array('imagePullSecrets', [] as Array<{ name: string }>, {
      description: 'Secrets for pulling from a private registry, as [{name: ...}].',
      schema: { items: { type: 'object', required: ['name'], properties: { name: { type: 'string' } }, additionalProperties: false } },
    });
    const podAnnotations = v.object('podAnnotations', {} as Record<string, string>, { description: 'Annotations added to every service pod.', schema: schemas.STRING_MAP });
    const nodeSelector = v.object('nodeSelector', {} as Record<string, string>, { description: 'nodeSelector of every service pod.', schema: schemas.STRING_MAP });
    const tolerations = v.array('tolerations', [] as unknown[], { description: 'Tolerations of every service pod.', schema: { items: { type: 'object' } } });
    const affinity = v.object('affinity', {} as Record<string, unknown>, { description: 'Affinity of every service pod (topology spread across zones and nodes is always set).' });

    v.section('config', 'Configuration every service reads from its environment.');
    const logLevel = v.string('config.logLevel', 'info', { description: 'LOG_LEVEL of the services and migrations.', schema: schemas.LOG_LEVEL });
    const corsOrigins = v.string('config.corsOrigins', '', { description: 'CORS_ORIGINS: comma-separated browser origins allowed to call the API; empty means https://<ingress.host>.' });
    const trustedProxies = v.string('config.trustedProxies', DEFAULT_TRUSTED_PROXY_CIDRS, {
      description: "TRUSTED_PROXIES: addresses or CIDRs of the proxies in front of the services (the ingress controller's pods), whose X-Forwarded-For gives the client address that rate limits and the audit log use. Narrow it to your pod CIDR if you can.",
      schema: { minLength: 1 },
    });
    v.section('config.auth', 'Access tokens.');
    const issuer = v.string('config.auth.issuer', '', { description: 'AUTH_ISSUER (iss of access tokens); empty means https://<ingress.host>.' });
    const audience = v.string('config.auth.audience', 'rallyforge', { description: 'AUTH_AUDIENCE (aud of access tokens).', schema: { minLength: 1 } });
    const jwksUrl = v.string('config.auth.jwksUrl', '', { description: "AUTH_JWKS_URL of the services that verify tokens; empty means this release's auth Service." });
    v.section('config.otel', 'OpenTelemetry tracing.');
    const tracesExporter = v.string('config.otel.tracesExporter', 'none', { description: 'OTEL_TRACES_EXPORTER: none or otlp.', schema: { enum: ['none', 'otlp', 'console'] } });
    const otelEndpoint = v.string('config.otel.endpoint', '', { description: 'OTEL_EXPORTER_OTLP_ENDPOINT, for example http://otel-collector.monitoring:4318.' });

    v.section('tenancy', 'Tenancy (see docs: the tenancy contract). The shared platform serves many tenants; a dedicated copy serves one.');
    const tenancyMode = v.string('tenancy.mode', 'shared', { description: 'TENANCY_MODE: shared (pooled, row-level security) or dedicated (this release serves one tenant).', schema: { enum: ['shared', 'dedicated'] } });
    const tenantId = v.string('tenancy.tenantId', '', { description: 'TENANT_ID: the tenant a dedicated release serves (the RallyForgeTenant name); empty when shared.', schema: { pattern: '^([a-z]([-a-z0-9]*[a-z0-9])?)?$', maxLength: 40 } });
    this.addValidation({
      condition: `and (eq .Values.tenancy.mode "dedicated") (not .Values.tenancy.tenantId)`,
      message: 'tenancy.mode is dedicated but tenancy.tenantId is empty: set tenancy.tenantId to the RallyForgeTenant this release serves.',
    });
    this.addValidation({
      condition: `and (eq .Values.tenancy.mode "shared") .Values.tenancy.tenantId`,
      message: 'tenancy.tenantId is set but tenancy.mode is shared: a shared platform serves every tenant. Set tenancy.mode=dedicated or clear tenancy.tenantId.',
    });

    const probes = declareProbes(v);
    const services = declareServices(v);

    v.section('ingress', 'The public entry: /api/v1/<service> for each service and /ws for WebSockets.');
    const ingressEnabled = v.boolean('ingress.enabled', true, { description: 'Create the Ingresses.' });
    const className = v.string('ingress.className', 'nginx', { description: 'IngressClass; empty uses the cluster default. The WebSocket timeouts are ingress-nginx annotations.', schema: schemas.DNS_LABEL_OR_EMPTY });
    const host = v.string('ingress.host', 'rallyforge.example.com', { description: 'Public host name.', schema: schemas.HOSTNAME });
    v.section('ingress.tls', 'TLS termination at the ingress.');
    const tlsEnabled = v.boolean('ingress.tls.enabled', false, { description: 'Serve HTTPS with the certificate in ingress.tls.secretName.' });
    const tlsSecret = v.string('ingress.tls.secretName', '', { description: 'Secret with the certificate; empty means <release>-tls (for example issued by cert-manager).', schema: { anyOf: [{ maxLength: 0 }, schemas.DNS_SUBDOMAIN] } });
    const annotations = v.object('ingress.annotations', { 'nginx.ingress.kubernetes.io/proxy-body-size': '25m' } as Record<string, string>, {
      description: 'Annotations of both Ingresses (controller settings, cert-manager issuer, ...).',
      schema: schemas.STRING_MAP,
    });
    const websocketTimeout = v.integer('ingress.websocketTimeoutSeconds', 3600, { description: 'Read/send timeout of /ws connections at ingress-nginx.', schema: schemas.integer(60, 86400) });

    v.section('postgresql', 'PostgreSQL: managed and external; each database service has its own database and URL.');
    const postgresqlSecret = v.string('postgresql.existingSecret', BACKING_SERVICE_DEFAULTS.postgresqlSecret, { description: 'Existing Secret with each service\'s DATABASE_URL.', schema: schemas.DNS_SUBDOMAIN });
    v.section('postgresql.databaseUrlKeys', 'Key of each service\'s DATABASE_URL in postgresql.existingSecret (databases rf_auth, rf_claims, rf_payments, rf_documents).');
    const databaseUrlKeys = Object.fromEntries(
      DATABASE_SERVICES.map((s) => [s, v.string(`postgresql.databaseUrlKeys.${s}`, BACKING_SERVICE_DEFAULTS.databaseUrlKey(s), { description: `Key of the ${s} service's DATABASE_URL.`, schema: schemas.DATA_KEY })]),
    ) as Record<ServiceName, HelmValue<string>>;
    v.section(
      'postgresql.migrationDatabaseUrlKeys',
      'Key of each database owner\'s URL in postgresql.existingSecret, read by the migration Jobs only (MIGRATION_DATABASE_URL); DATABASE_URL is the runtime role, which owns nothing and cannot bypass Row-Level Security (docs/adr/0005-row-level-security.md).',
    );
    const migrationDatabaseUrlKeys = Object.fromEntries(
      DATABASE_SERVICES.map((s) => [s, v.string(`postgresql.migrationDatabaseUrlKeys.${s}`, BACKING_SERVICE_DEFAULTS.migrationDatabaseUrlKey(s), { description: `Key of the ${s} database owner's URL (migrations).`, schema: schemas.DATA_KEY })]),
    ) as Record<ServiceName, HelmValue<string>>;
    v.section('redis', 'Redis: managed and external.');
    const redisSecret = v.string('redis.existingSecret', BACKING_SERVICE_DEFAULTS.redisSecret, { description: 'Existing Secret with REDIS_URL.', schema: schemas.DNS_SUBDOMAIN });
    const redisKey = v.string('redis.urlKey', BACKING_SERVICE_DEFAULTS.redisUrlKey, { description: 'Key of REDIS_URL in redis.existingSecret.', schema: schemas.DATA_KEY });
    v.section('rabbitmq', 'RabbitMQ: managed and external.');
    const rabbitmqSecret = v.string('rabbitmq.existingSecret', BACKING_SERVICE_DEFAULTS.rabbitmqSecret, { description: 'Existing Secret with AMQP_URL.', schema: schemas.DNS_SUBDOMAIN });
    const rabbitmqKey = v.string('rabbitmq.urlKey', BACKING_SERVICE_DEFAULTS.amqpUrlKey, { description: 'Key of AMQP_URL in rabbitmq.existingSecret.', schema: schemas.DATA_KEY });

    v.section('development', 'Development mode: single-replica PostgreSQL, Redis and RabbitMQ in the cluster with throw-away data. Never for production.');
    const devEnabled = v.boolean('development.enabled', false, { description: 'Run PostgreSQL, Redis and RabbitMQ in the cluster and ignore the external Secrets above.' });
    v.string('development.password', '', {
      description: 'Password of the in-cluster servers; empty generates one at install and keeps it on upgrades. URL-safe characters only.',
      schema: { pattern: '^[A-Za-z0-9._~-]*$', maxLength: 128 },
    });
    v.section('development.images', 'Images of the in-cluster servers.');
    const devImages = {
      postgresql: v.string('development.images.postgresql', DEVELOPMENT_DEFAULTS.images.postgresql, { description: 'PostgreSQL image.', schema: schemas.IMAGE_REFERENCE }),
      redis: v.string('development.images.redis', DEVELOPMENT_DEFAULTS.images.redis, { description: 'Redis image.', schema: schemas.IMAGE_REFERENCE }),
      rabbitmq: v.string('development.images.rabbitmq', DEVELOPMENT_DEFAULTS.images.rabbitmq, { description: 'RabbitMQ image.', schema: schemas.IMAGE_REFERENCE }),
    };

    v.section('migrations', 'Database migrations (node dist/migrate.js) as Helm hook Jobs: pre-install and pre-upgrade (post-install in development mode, whose database comes with the release).');
    const migrationsEnabled = v.boolean('migrations.enabled', true, { description: 'Run the migration Jobs.' });
    const backoffLimit = v.integer('migrations.backoffLimit', MIGRATION_DEFAULTS.backoffLimit, { description: 'Retries of a failed migration before the release fails.', schema: schemas.integer(0, 10) });
    const activeDeadline = v.integer('migrations.activeDeadlineSeconds', MIGRATION_DEFAULTS.activeDeadlineSeconds, { description: 'A migration Job running longer than this fails the release.', schema: schemas.integer(30) });
    const migrationResources = v.object('migrations.resources', MIGRATION_DEFAULTS.resources, { description: 'Resources of the migration containers.', schema: schemas.RESOURCES });

    v.section('networkPolicy', 'Ingress NetworkPolicy of each service: only the ingress controller, monitoring and the platform services that call it.');
    const netpolEnabled = v.boolean('networkPolicy.enabled', true, { description: 'Create the NetworkPolicies (they need a CNI that enforces them).' });
    v.section('networkPolicy.ingressController', 'Where the ingress controller runs.');
    const icNs = v.object('networkPolicy.ingressController.namespaceSelector', { ...SERVICE_DEFAULTS.ingressController.namespaceLabels }, { description: 'Labels of the ingress controller\'s namespace.', schema: schemas.STRING_MAP });
    const icPods = v.object('networkPolicy.ingressController.podSelector', { ...SERVICE_DEFAULTS.ingressController.podLabels }, { description: 'Labels of the ingress controller\'s pods.', schema: schemas.STRING_MAP });
    v.section('networkPolicy.monitoring', 'Where the Prometheus that scrapes /metrics runs.');
    const monNs = v.object('networkPolicy.monitoring.namespaceSelector', { ...SERVICE_DEFAULTS.monitoring.namespaceLabels }, { description: 'Labels of the monitoring namespace.', schema: schemas.STRING_MAP });
    const monPods = v.object('networkPolicy.monitoring.podSelector', { ...SERVICE_DEFAULTS.monitoring.podLabels }, { description: 'Labels of the Prometheus pods.', schema: schemas.STRING_MAP });

    v.section('serviceMonitor', 'prometheus-operator ServiceMonitors for /metrics (created only when the cluster serves monitoring.coreos.com/v1).');
    const monitorEnabled = v.boolean('serviceMonitor.enabled', true, { description: 'Create a ServiceMonitor per service.' });
    const monitorInterval = v.string('serviceMonitor.interval', SERVICE_DEFAULTS.serviceMonitorInterval, { description: 'Scrape interval.', schema: schemas.PROMETHEUS_DURATION });

    const docs = '.Values.services.documents';
    this.addValidation({
      condition: `and (eq ${docs}.storage.type "persistentVolumeClaim") (ne ${docs}.storage.accessMode "ReadWriteMany") (or ${docs}.autoscaling.enabled (gt (int ${docs}.replicas) 1))`,
      message:
        'services.documents.storage.accessMode only lets pods on one node mount the documents volume, but documents runs several replicas: ' +
        'use ReadWriteMany (a storage class that supports it), or set services.documents.replicas=1 and services.documents.autoscaling.enabled=false.',
    });
    this.addHelper(developmentPasswordHelper(PLATFORM_CHART_NAME));
    const fullname = this.fullname;
    const hostExpr = host.expr;
    const orDefault = (value: HelmValue<string>, fallback: string) => Helm.str(`${value.expr} | default (${Helm.expressionOf(fallback)})`);

    this.platform = new RallyForgePlatform(this, 'Platform', {
      namePrefix: fullname,
      instance: Helm.releaseName(),
      image: { registry, repositoryPrefix, tag: Helm.str(`${tag.expr} | default .Chart.AppVersion`), pullPolicy },
      services,
      probes,
      pod: { annotations: podAnnotations, nodeSelector, tolerations, affinity, imagePullSecrets },
      config: {
        logLevel,
        corsOrigins: Helm.str(`${corsOrigins.expr} | default (printf "https://%s" ${hostExpr})`),
        trustedProxies,
        authIssuer: Helm.str(`${issuer.expr} | default (printf "https://%s" ${hostExpr})`),
        authAudience: String(audience),
        jwksUrl: orDefault(jwksUrl, `http://${fullname}-auth:3000/api/v1/auth/.well-known/jwks.json`),
        otelTracesExporter: tracesExporter,
        otelEndpoint,
        tenancyMode,
        tenantId,
      },
      backingServices: {
        databaseUrls: Object.fromEntries(DATABASE_SERVICES.map((s) => [s, { secretName: String(postgresqlSecret), key: String(databaseUrlKeys[s]) }])),
        migrationDatabaseUrls: Object.fromEntries(
          DATABASE_SERVICES.map((s) => [s, { secretName: String(postgresqlSecret), key: String(migrationDatabaseUrlKeys[s]) }]),
        ),
        redisUrl: { secretName: String(redisSecret), key: String(redisKey) },
        amqpUrl: { secretName: String(rabbitmqSecret), key: String(rabbitmqKey) },
      },
      development: { enabled: devEnabled, password: helmDevelopmentPassword(PLATFORM_CHART_NAME), images: devImages },
      documentsStorage: services.documents.storage,
      paymentProvider: services.payments.paymentProvider,
      ingress: {
        enabled: ingressEnabled,
        host: String(host),
        className,
        tls: { enabled: tlsEnabled, secretName: orDefault(tlsSecret, `${fullname}-tls`) },
        annotations,
        websocketTimeoutSeconds: websocketTimeout,
      },
      migrations: { enabled: migrationsEnabled, backoffLimit, activeDeadlineSeconds: activeDeadline, resources: migrationResources },
      networkPolicy: {
        enabled: netpolEnabled,
        ingressController: { namespaceLabels: icNs, podLabels: icPods },
        monitoring: { namespaceLabels: monNs, podLabels: monPods },
      },
      serviceMonitor: { enabled: monitorEnabled, interval: monitorInterval },
    });
    this.setNotes(platformNotes(PLATFORM_CHART_NAME));
  }
}

function declareProbes(v: HelmValues): ServiceProbes {
  v.section('probes', 'Probe timings of every service (endpoints fixed by the service kit: /health/startup, /health/live, /health/ready).');
  const probe = (kind: keyof typeof SERVICE_DEFAULTS.probes, what: string): ProbeTimings => {
    const d = SERVICE_DEFAULTS.probes[kind];
    v.section(`probes.${kind}`, what);
    return {
      initialDelaySeconds: v.integer(`probes.${kind}.initialDelaySeconds`, d.initialDelaySeconds, { description: 'Seconds before the first probe.', schema: schemas.integer(0, 600) }),
      periodSeconds: v.integer(`probes.${kind}.periodSeconds`, d.periodSeconds, { description: 'Seconds between probes.', schema: schemas.integer(1, 300) }),
      timeoutSeconds: v.integer(`probes.${kind}.timeoutSeconds`, d.timeoutSeconds, { description: 'Seconds before a probe counts as failed.', schema: schemas.integer(1, 60) }),
      failureThreshold: v.integer(`probes.${kind}.failureThreshold`, d.failureThreshold, { description: 'Consecutive failures that count.', schema: schemas.integer(1, 120) }),
    };
  };
  return {
    startup: probe('startup', 'Startup: gates the other probes; periodSeconds x failureThreshold is the longest start allowed.'),
    liveness: probe('liveness', 'Liveness: restarts a hung process; never checks dependencies.'),
    readiness: probe('readiness', 'Readiness: takes a pod out of the Service while its dependencies are unavailable.'),
  };
}

type DeclaredServices = Record<ServiceName, PlatformServiceOptions> & {
  documents: { storage: { type: HelmValue<string>; size: HelmValue<string>; storageClassName: HelmValue<string>; accessMode: HelmValue<string> } };
  payments: { paymentProvider: HelmValue<string> };
};

function declareServices(v: HelmValues): DeclaredServices {
  v.section('services', 'Per-service sizing.');
  const a = SERVICE_DEFAULTS.autoscaling;
  const result = {} as Record<ServiceName, PlatformServiceOptions>;
  for (const service of SERVICE_NAMES) {
    const p = `services.${service}`;
    v.section(p, `The ${service} service.`);
    const replicas = v.integer(`${p}.replicas`, SERVICE_DEFAULTS.replicas, { description: 'Replicas when autoscaling is disabled.', schema: schemas.integer(0, 100) });
    v.section(`${p}.autoscaling`, 'HorizontalPodAutoscaler (autoscaling/v2) on CPU and memory utilisation of the requests.');
    const autoscaling = {
      enabled: v.boolean(`${p}.autoscaling.enabled`, a.enabled, { description: 'Scale with an HPA; when false the Deployment runs `replicas` pods.' }),
      minReplicas: v.integer(`${p}.autoscaling.minReplicas`, a.minReplicas, { description: 'Lowest replica count.', schema: schemas.integer(1, 100) }),
      maxReplicas: v.integer(`${p}.autoscaling.maxReplicas`, a.maxReplicas, { description: 'Highest replica count.', schema: schemas.integer(1, 100) }),
      cpuUtilization: v.integer(`${p}.autoscaling.targetCPUUtilizationPercentage`, a.cpuUtilization, { description: 'Target average CPU, percent of requests.', schema: schemas.integer(1, 100) }),
      memoryUtilization: v.integer(`${p}.autoscaling.targetMemoryUtilizationPercentage`, a.memoryUtilization, { description: 'Target average memory, percent of requests.', schema: schemas.integer(1, 100) }),
      scaleDownStabilizationSeconds: v.integer(`${p}.autoscaling.scaleDownStabilizationWindowSeconds`, a.scaleDownStabilizationSeconds, {
        description: 'How long load must stay low before scaling down.',
        schema: schemas.integer(0, 3600),
      }),
    };
    const resources = v.object(`${p}.resources`, SERVICE_RESOURCES[service], { description: 'Container resources; the HPA targets are percentages of the requests.', schema: schemas.RESOURCES });
    v.section(`${p}.podDisruptionBudget`, 'PodDisruptionBudget for voluntary disruptions (node drains).');
    const disruptionBudget = {
      enabled: v.boolean(`${p}.podDisruptionBudget.enabled`, SERVICE_DEFAULTS.disruptionBudget.enabled, { description: 'Create the PodDisruptionBudget.' }),
      maxUnavailable: v.integer(`${p}.podDisruptionBudget.maxUnavailable`, SERVICE_DEFAULTS.disruptionBudget.maxUnavailable, { description: 'Pods that may be down at once.', schema: schemas.integer(1, 100) }),
    };
    const extraEnv = v.array(`${p}.extraEnv`, [] as unknown[], { description: 'More environment variables, as Kubernetes env entries ({name, value} or {name, valueFrom}).', schema: schemas.ENV_LIST });
    result[service] = { replicas, autoscaling, resources, disruptionBudget, extraEnv };
  }
  v.section('services.documents.storage', 'Local document storage (STORAGE_DRIVER=local, STORAGE_LOCAL_DIR=/data/documents).');
  const storage = {
    type: v.string('services.documents.storage.type', 'emptyDir', {
      description: 'emptyDir (documents are lost with the pod: development only) or persistentVolumeClaim (ReadWriteMany for several replicas on several nodes).',
      schema: { enum: ['emptyDir', 'persistentVolumeClaim'] },
    }),
    size: v.string('services.documents.storage.size', '10Gi', { description: 'PVC size, or emptyDir size limit.', schema: { pattern: '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$' } }),
    storageClassName: v.string('services.documents.storage.storageClassName', '', { description: 'StorageClass of the PVC; empty for the cluster default.', schema: { pattern: '^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$' } }),
    accessMode: v.string('services.documents.storage.accessMode', 'ReadWriteMany', { description: 'Access mode of the PVC.', schema: { enum: ['ReadWriteOnce', 'ReadWriteMany', 'ReadWriteOncePod'] } }),
  };
  const paymentProvider = v.string('services.payments.paymentProvider', 'stripe', { description: 'PAYMENT_PROVIDER of the payments service.', schema: { enum: ['stripe', 'fake'] } });
  return {
    ...result,
    documents: { ...result.documents, storage },
    payments: { ...result.payments, paymentProvider },
  } as DeclaredServices;
}

/**
 * Development mode password: the one the release's Secret already holds (so upgrades keep working
 * with the existing data), else development.password, else generated once per render.
 */
function developmentPasswordHelper(chart: string): string {
  return `
{{/*
Password of the development-mode servers: development.password if set; otherwise the one in the
release's connections Secret (kept across upgrades); otherwise generated once for this render.
*/}}
{{- define "${chart}.developmentPassword" -}}
{{- if .Values.development.password }}
{{- .Values.development.password }}
{{- else }}
{{- $secret := lookup "v1" "Secret" .Release.Namespace (printf "%s-dev-connections" (include "${chart}.fullname" .)) }}
{{- if and $secret $secret.data (hasKey $secret.data "PASSWORD") }}
{{- index $secret.data "PASSWORD" | b64dec }}
{{- else }}
{{- /* Memoised in .Values so that every object of this render gets the same password. */}}
{{- if not (hasKey .Values.development "generatedPassword") }}
{{- $_ := set .Values.development "generatedPassword" (randAlphaNum 24) }}
{{- end }}
{{- .Values.development.generatedPassword }}
{{- end }}
{{- end }}
{{- end }}`;
}

function platformNotes(chart: string): string {
  return `
RallyForge {{ .Chart.AppVersion }} is installed as release "{{ .Release.Name }}" in namespace "{{ .Release.Namespace }}".

Services (each <name>:3000, probes /health/startup, /health/live, /health/ready, metrics /metrics):
{{- range $service := list ${SERVICE_NAMES.map((s) => `"${s}"`).join(' ')} }}
  - {{ include "${chart}.fullname" $ }}-{{ $service }}
{{- end }}

{{- if .Values.ingress.enabled }}

Public entry: {{ if .Values.ingress.tls.enabled }}https{{ else }}http{{ end }}://{{ .Values.ingress.host }}
  /api/v1/<service>  (auth, claims, payments, documents, realtime)
  /ws                (WebSockets, {{ .Values.ingress.websocketTimeoutSeconds }} s timeout)
{{- end }}

{{- if .Values.development.enabled }}

DEVELOPMENT MODE: PostgreSQL, Redis and RabbitMQ run in the cluster with throw-away data.
Connection URLs: kubectl -n {{ .Release.Namespace }} get secret {{ include "${chart}.fullname" . }}-dev-connections
{{- else }}

Backing services are external. These Secrets must exist in namespace {{ .Release.Namespace }}:
  {{ .Values.postgresql.existingSecret }} (keys {{ values .Values.postgresql.databaseUrlKeys | sortAlpha | join ", " }})
  {{ .Values.redis.existingSecret }} (key {{ .Values.redis.urlKey }})
  {{ .Values.rabbitmq.existingSecret }} (key {{ .Values.rabbitmq.urlKey }})
{{- end }}

{{- if eq .Values.services.documents.storage.type "emptyDir" }}

WARNING: services.documents.storage.type is emptyDir: uploaded documents are lost whenever a documents
pod is replaced. Use persistentVolumeClaim (ReadWriteMany) for anything but development.
{{- end }}

{{- if .Values.migrations.enabled }}

Migrations ran as hook Jobs <release>-<service>-migrate (deleted on success). If one failed:
  kubectl -n {{ .Release.Namespace }} logs job/{{ include "${chart}.fullname" . }}-<service>-migrate
{{- end }}
`;
}
