import { App } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { HelmChart } from '../helm/helm-chart';
import { Helm } from '../helm/helm-token';
import { stringOf } from '../helm/helm-values';
import * as schemas from '../helm/schemas';
import { SERVICE_DEFAULTS } from '../platform/rallyforge-service';
import { OPERATOR_DEFAULTS, RallyForgeOperator } from './rallyforge-operator';
import { RallyForgeTenantDefinition, TENANT_CRD_NAME } from './tenant-crd';

export const OPERATOR_CHART_NAME = 'rallyforge-operator';

/** Keys of the operator's credentials Secret (defaults of `credentials.keys.*`). */
export const OPERATOR_SECRET_KEYS = {
  amqpUrl: 'AMQP_URL',
  postgresAdminUrl: 'POSTGRES_ADMIN_URL',
  rabbitmqAdminUser: 'RABBITMQ_ADMIN_USER',
  rabbitmqAdminPassword: 'RABBITMQ_ADMIN_PASSWORD',
  redisAdminUrl: 'REDIS_ADMIN_URL',
} as const;

export interface OperatorChartProps {
  readonly appVersion: string;
}

/**
 * The `rallyforge-operator` Helm chart: the RallyForgeTenant CRD (crds/), the operator Deployment
 * and its least-privilege RBAC.
 */
export class RallyForgeOperatorChart extends HelmChart {
  public readonly operator: RallyForgeOperator;

  public constructor(scope: App, id: string, props: OperatorChartProps) {
    super(scope, id, {
      chartName: OPERATOR_CHART_NAME,
      description: 'The RallyForge tenant operator: turns RallyForgeTenant objects into isolated namespaces, databases, vhosts and Redis users.',
      appVersion: props.appVersion,
      keywords: ['rallyforge', 'operator', 'multi-tenancy'],
    });
    const v = this.values;
    new RallyForgeTenantDefinition(this, 'TenantDefinition');

    v.section('image', 'Operator image: <registry>/<repository>:<tag>.');
    const registry = v.string('image.registry', 'ghcr.io', { description: 'Registry host (and optional path).', schema: schemas.REGISTRY });
    const repository = v.string('image.repository', 'rallyforge/operator', { description: 'Repository of the operator image.', schema: schemas.REPOSITORY_PATH });
    const tag = v.string('image.tag', '', { description: "Image tag; empty means the chart's appVersion.", schema: schemas.IMAGE_TAG });
    const pullPolicy = v.string('image.pullPolicy', 'IfNotPresent', { description: 'imagePullPolicy.', schema: schemas.PULL_POLICY });
    const imagePullSecrets = v.array('imagePullSecrets', [] as Array<{ name: string }>, {
      description: 'Secrets for pulling from a private registry, as [{name: ...}].',
      schema: { items: { type: 'object', required: ['name'], properties: { name: { type: 'string' } }, additionalProperties: false } },
    });
    const podAnnotations = v.object('podAnnotations', {} as Record<string, string>, { description: 'Annotations of the operator pods.', schema: schemas.STRING_MAP });
    const nodeSelector = v.object('nodeSelector', {} as Record<string, string>, { description: 'nodeSelector of the operator pods.', schema: schemas.STRING_MAP });
    const tolerations = v.array('tolerations', [] as unknown[], { description: 'Tolerations of the operator pods.', schema: { items: { type: 'object' } } });
    const affinity = v.object('affinity', {} as Record<string, unknown>, { description: 'Affinity of the operator pods.' });

    const replicas = v.integer('replicas', OPERATOR_DEFAULTS.replicas, { description: 'Operator replicas; one leads, the others stand by.', schema: schemas.integer(0, 5) });
    v.section('leaderElection', 'Leader election through a Lease in the release namespace (15 s lease, 10 s renew deadline, 2 s retry).');
    const leaderElection = v.boolean('leaderElection.enabled', true, { description: 'Elect a leader; required with more than one replica.' });
    const resources = v.object('resources', OPERATOR_DEFAULTS.resources, { description: 'Container resources.', schema: schemas.RESOURCES });
    const logLevel = v.string('logLevel', 'info', { description: 'LOG_LEVEL.', schema: schemas.LOG_LEVEL });

    v.section('tenancy', 'How tenants are provisioned (the tenancy contract).');
    const namespacePrefix = v.string('tenancy.namespacePrefix', 'rf-', { description: 'Tenant namespaces are <namespacePrefix><tenant id>.', schema: { pattern: '^[a-z]([-a-z0-9]*)?$', maxLength: 20 } });
    const resync = v.integer('tenancy.resyncPeriodSeconds', 600, {
      description: 'Period of the resync that repairs drift in PostgreSQL, RabbitMQ and Redis (Kubernetes objects are repaired on watch events).',
      schema: schemas.integer(30, 86400),
    });
    const platformNamespace = v.string('tenancy.platformNamespace', '', { description: 'Namespace of the shared platform (allowed into tenant namespaces); empty means this release\'s namespace.', schema: schemas.DNS_LABEL_OR_EMPTY });
    const ingressNamespace = v.string('tenancy.ingressControllerNamespace', 'ingress-nginx', { description: 'Namespace of the ingress controller, allowed into dedicated tenants\' namespaces.', schema: schemas.DNS_LABEL_OR_EMPTY });
    const monitoringNamespace = v.string('tenancy.monitoringNamespace', 'monitoring', { description: 'Namespace of Prometheus, allowed into tenant namespaces.', schema: schemas.DNS_LABEL_OR_EMPTY });
    const dedicated = v.boolean('tenancy.dedicatedTenants', true, {
      description: 'Allow the dedicated tier: grants the operator what running a tenant\'s own services needs (Deployments, Services, HPAs, Jobs, ...).',
    });
    v.section('tenancy.dedicatedImage', 'Images of a dedicated tenant\'s services: <registry>/<repositoryPrefix>/<service>:<tag>.');
    const dRegistry = v.string('tenancy.dedicatedImage.registry', 'ghcr.io', { description: 'Registry of the service images.', schema: schemas.REGISTRY });
    const dPrefix = v.string('tenancy.dedicatedImage.repositoryPrefix', 'rallyforge', { description: 'Repository path before the service name.', schema: schemas.REPOSITORY_PATH });
    const dTag = v.string('tenancy.dedicatedImage.tag', '', { description: "Tag of the service images; empty means the chart's appVersion.", schema: schemas.IMAGE_TAG });

    v.section('credentials', 'Existing Secret with the operator\'s administrative connections (never the tenants\' own).');
    const secret = v.string('credentials.existingSecret', 'rallyforge-operator', { description: 'Secret in the release namespace.', schema: schemas.DNS_SUBDOMAIN });
    v.section('credentials.keys', 'Keys in credentials.existingSecret.');
    const keys = {
      amqpUrl: v.string('credentials.keys.amqpUrl', OPERATOR_SECRET_KEYS.amqpUrl, { description: 'AMQP URL of the platform vhost (registration requests to auth).', schema: schemas.DATA_KEY }),
      postgresAdminUrl: v.string('credentials.keys.postgresAdminUrl', OPERATOR_SECRET_KEYS.postgresAdminUrl, {
        description: 'postgres:// URL of a superuser (tenant databases, and their owner roles get BYPASSRLS, which only a superuser grants).',
        schema: schemas.DATA_KEY,
      }),
      rabbitmqAdminUser: v.string('credentials.keys.rabbitmqAdminUser', OPERATOR_SECRET_KEYS.rabbitmqAdminUser, {
        description: 'A RabbitMQ user tagged administrator (tenant vhosts, users and permissions through the management API).',
        schema: schemas.DATA_KEY,
      }),
      rabbitmqAdminPassword: v.string('credentials.keys.rabbitmqAdminPassword', OPERATOR_SECRET_KEYS.rabbitmqAdminPassword, { description: "That user's password.", schema: schemas.DATA_KEY }),
      redisAdminUrl: v.string('credentials.keys.redisAdminUrl', OPERATOR_SECRET_KEYS.redisAdminUrl, { description: 'redis:// URL of a user allowed ACL, CLIENT KILL, SCAN and UNLINK.', schema: schemas.DATA_KEY }),
    };

    v.section('externalSystems', 'Where the operator reaches PostgreSQL, RabbitMQ and Redis, and what tenants are given (no credentials here: those are in credentials.existingSecret). Empty means the default named.');
    const external = {
      postgresTenantUrl: v.string('externalSystems.postgres.tenantUrl', '', {
        description: "Base of the tenants' postgres:// URLs, without credentials (e.g. postgres://postgres.db.svc:5432?sslmode=require); empty: the admin URL's host and port.",
      }),
      postgresPlatformDatabases: v.string('externalSystems.postgres.platformDatabases', '', {
        description: 'Comma-separated platform databases checked for Row-Level Security for the shared tier; empty: rf_auth,rf_claims,rf_payments,rf_documents.',
      }),
      rabbitmqManagementUrl: v.string('externalSystems.rabbitmq.managementUrl', 'http://rabbitmq:15672', { description: 'http(s):// URL of the RabbitMQ management API, without credentials.' }),
      rabbitmqAmqpUrl: v.string('externalSystems.rabbitmq.amqpUrl', '', { description: "amqp(s):// URL where the operator proves tenants' logins; empty: the management host on port 5672." }),
      rabbitmqTenantUrl: v.string('externalSystems.rabbitmq.tenantUrl', '', { description: "Base of the tenants' AMQP_URL, without credentials; empty: externalSystems.rabbitmq.amqpUrl." }),
      rabbitmqPlatformVhost: v.string('externalSystems.rabbitmq.platformVhost', '', { description: 'Vhost of the shared tier; empty: rf.' }),
      redisTenantUrl: v.string('externalSystems.redis.tenantUrl', '', { description: "Base of the tenants' REDIS_URL, without credentials; empty: the admin URL's host, port and db." }),
    };

    v.section('podDisruptionBudget', 'PodDisruptionBudget of the operator.');
    const pdbEnabled = v.boolean('podDisruptionBudget.enabled', true, { description: 'Create the PodDisruptionBudget.' });
    const pdbMax = v.integer('podDisruptionBudget.maxUnavailable', 1, { description: 'Pods that may be down at once.', schema: schemas.integer(1, 5) });
    v.section('networkPolicy', 'Ingress NetworkPolicy of the operator: only monitoring, on the metrics port.');
    const netpolEnabled = v.boolean('networkPolicy.enabled', true, { description: 'Create the NetworkPolicy.' });
    v.section('networkPolicy.monitoring', 'Where the Prometheus that scrapes /metrics runs.');
    const monNs = v.object('networkPolicy.monitoring.namespaceSelector', { ...SERVICE_DEFAULTS.monitoring.namespaceLabels }, { description: 'Labels of the monitoring namespace.', schema: schemas.STRING_MAP });
    const monPods = v.object('networkPolicy.monitoring.podSelector', { ...SERVICE_DEFAULTS.monitoring.podLabels }, { description: 'Labels of the Prometheus pods.', schema: schemas.STRING_MAP });
    v.section('serviceMonitor', 'prometheus-operator ServiceMonitor (created only when the cluster serves monitoring.coreos.com/v1).');
    const monitorEnabled = v.boolean('serviceMonitor.enabled', true, { description: 'Create the ServiceMonitor.' });
    const monitorInterval = v.string('serviceMonitor.interval', SERVICE_DEFAULTS.serviceMonitorInterval, { description: 'Scrape interval.', schema: schemas.PROMETHEUS_DURATION });

    const credentials = kplus.Secret.fromSecretName(this, 'Credentials', String(secret));
    const credential = (key: string) => kplus.EnvValue.fromSecretValue({ secret: credentials, key });
    this.operator = new RallyForgeOperator(this, 'Operator', {
      namePrefix: this.fullname,
      instance: Helm.releaseName(),
      namespace: Helm.releaseNamespace(),
      image: `${registry}/${repository}:${Helm.str(`${tag.expr} | default .Chart.AppVersion`)}`,
      imagePullPolicy: pullPolicy,
      replicas,
      leaderElection,
      resources,
      dedicatedTenants: dedicated,
      pod: { annotations: podAnnotations, nodeSelector, tolerations, affinity, imagePullSecrets },
      disruptionBudget: { enabled: pdbEnabled, maxUnavailable: pdbMax },
      networkPolicy: { enabled: netpolEnabled, monitoring: { namespaceLabels: monNs, podLabels: monPods } },
      serviceMonitor: { enabled: monitorEnabled, interval: monitorInterval },
      env: {
        LOG_LEVEL: kplus.EnvValue.fromValue(stringOf(logLevel)),
        TENANT_NAMESPACE_PREFIX: kplus.EnvValue.fromValue(stringOf(namespacePrefix)),
        RESYNC_PERIOD_SECONDS: kplus.EnvValue.fromValue(stringOf(resync)),
        PLATFORM_NAMESPACE: kplus.EnvValue.fromValue(Helm.str(`${platformNamespace.expr} | default .Release.Namespace`)),
        INGRESS_CONTROLLER_NAMESPACE: kplus.EnvValue.fromValue(stringOf(ingressNamespace)),
        MONITORING_NAMESPACE: kplus.EnvValue.fromValue(stringOf(monitoringNamespace)),
        DEDICATED_TENANTS: kplus.EnvValue.fromValue(stringOf(dedicated)),
        DEDICATED_IMAGE_REGISTRY: kplus.EnvValue.fromValue(stringOf(dRegistry)),
        DEDICATED_IMAGE_REPOSITORY_PREFIX: kplus.EnvValue.fromValue(stringOf(dPrefix)),
        DEDICATED_IMAGE_TAG: kplus.EnvValue.fromValue(Helm.str(`${dTag.expr} | default .Chart.AppVersion`)),
        AMQP_URL: credential(String(keys.amqpUrl)),
        RF_OPERATOR_POSTGRES_ADMIN_URL: credential(String(keys.postgresAdminUrl)),
        RF_OPERATOR_RABBITMQ_ADMIN_USER: credential(String(keys.rabbitmqAdminUser)),
        RF_OPERATOR_RABBITMQ_ADMIN_PASSWORD: credential(String(keys.rabbitmqAdminPassword)),
        RF_OPERATOR_REDIS_ADMIN_URL: credential(String(keys.redisAdminUrl)),
        RF_OPERATOR_POSTGRES_TENANT_URL: kplus.EnvValue.fromValue(stringOf(external.postgresTenantUrl)),
        RF_OPERATOR_POSTGRES_PLATFORM_DATABASES: kplus.EnvValue.fromValue(stringOf(external.postgresPlatformDatabases)),
        RF_OPERATOR_RABBITMQ_MANAGEMENT_URL: kplus.EnvValue.fromValue(stringOf(external.rabbitmqManagementUrl)),
        RF_OPERATOR_RABBITMQ_AMQP_URL: kplus.EnvValue.fromValue(stringOf(external.rabbitmqAmqpUrl)),
        RF_OPERATOR_RABBITMQ_TENANT_URL: kplus.EnvValue.fromValue(stringOf(external.rabbitmqTenantUrl)),
        RF_OPERATOR_RABBITMQ_PLATFORM_VHOST: kplus.EnvValue.fromValue(stringOf(external.rabbitmqPlatformVhost)),
        RF_OPERATOR_REDIS_TENANT_URL: kplus.EnvValue.fromValue(stringOf(external.redisTenantUrl)),
      },
    });
    this.setNotes(`
The RallyForge operator {{ .Chart.AppVersion }} runs as {{ include "${OPERATOR_CHART_NAME}.fullname" . }}-operator in namespace {{ .Release.Namespace }}.

It reconciles RallyForgeTenant objects (CRD ${TENANT_CRD_NAME}, installed from crds/):
  kubectl get rft

Credentials are read from Secret {{ .Values.credentials.existingSecret }} (keys {{ values .Values.credentials.keys | sortAlpha | join ", " }}).

Note: Helm installs crds/ on first install only; after a chart upgrade that changes the CRD, apply it
yourself: kubectl apply --server-side -f crds/
`);
  }
}
