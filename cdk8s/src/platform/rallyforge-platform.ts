import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { PART_OF } from '../helm/helm-chart';
import { Helm, renderIf } from '../helm/helm-token';
import { Tunable, chooseString, defaultOf, isHelmValue, renderOf, stringOf } from '../helm/helm-values';
import { Patch } from '../helm/patch';
import { DatabaseMigration, MIGRATION_DEFAULTS, POST_INSTALL_HOOKS, PRE_INSTALL_HOOKS, SecretKeyRef } from './database-migration';
import { DEV_SECRET_KEYS, DevelopmentBackingServices, DevelopmentImages } from './development-backing-services';
import { IngressTlsOptions, PlatformIngress } from './platform-ingress';
import {
  DisruptionBudgetOptions,
  PodOptions,
  RallyForgeService,
  ResourceRequirements,
  ServiceAutoscalingOptions,
  ServiceMonitorOptions,
  ServiceNetworkPolicyOptions,
  ServiceProbes,
  ServiceVolume,
} from './rallyforge-service';
import { DATABASE_SERVICES, JWKS_PATH, SERVICE_NAMES, ServiceName } from './service-contract';

/** Where the images come from: `<registry>/<repositoryPrefix>/<service>:<tag>`. */
export interface PlatformImageOptions {
  /** @default 'ghcr.io' */
  readonly registry?: Tunable<string>;
  /** @default 'rallyforge' */
  readonly repositoryPrefix?: Tunable<string>;
  /** The version to deploy. */
  readonly tag: Tunable<string>;
  /** @default 'IfNotPresent' */
  readonly pullPolicy?: Tunable<string>;
}

/** Per-service sizing and extra environment. */
export interface PlatformServiceOptions {
  readonly replicas?: Tunable<number>;
  readonly autoscaling?: ServiceAutoscalingOptions;
  readonly resources?: Tunable<ResourceRequirements>;
  readonly disruptionBudget?: DisruptionBudgetOptions;
  readonly extraEnv?: Tunable<unknown[]>;
}

/**
 * The private address ranges. The services' NetworkPolicy admits only the ingress controller, monitoring and the
 * platform's own namespaces, so a forwarded-for header from these ranges comes from a proxy we run.
 */
export const DEFAULT_TRUSTED_PROXY_CIDRS = '10.0.0.0/8,172.16.0.0/12,192.168.0.0/16';

/** Configuration every service reads from its environment. */
export interface PlatformConfig {
  /** @default 'info' */
  readonly logLevel?: Tunable<string>;
  /** Comma-separated allowed browser origins (CORS_ORIGINS). @default 'https://<ingress host>' */
  readonly corsOrigins?: string;
  /** AUTH_ISSUER. @default 'https://<ingress host>' */
  readonly authIssuer?: string;
  /** AUTH_AUDIENCE. @default 'rallyforge' */
  readonly authAudience?: string;
  /** AUTH_JWKS_URL of the non-auth services. @default - the auth Service inside the cluster */
  readonly jwksUrl?: string;
  /** OTEL_TRACES_EXPORTER. @default 'none' */
  readonly otelTracesExporter?: Tunable<string>;
  /** OTEL_EXPORTER_OTLP_ENDPOINT. @default '' */
  readonly otelEndpoint?: Tunable<string>;
  /**
   * TRUSTED_PROXIES: addresses or CIDRs whose X-Forwarded-For the services believe (the client address is what rate
   * limits and the audit log key on). Behind an ingress, leaving it at loopback puts every user behind one address.
   * @default DEFAULT_TRUSTED_PROXY_CIDRS (the private ranges: only the ingress controller may reach the pods)
   */
  readonly trustedProxies?: Tunable<string>;
  /** TENANCY_MODE: `shared` (pooled, the platform) or `dedicated` (one tenant's copy). @default 'shared' */
  readonly tenancyMode?: Tunable<string>;
  /** TENANT_ID: the tenant a dedicated copy serves; empty for the shared platform. @default '' */
  readonly tenantId?: Tunable<string>;
}

/** External PostgreSQL, Redis and RabbitMQ: existing Secrets with connection URLs. */
export interface BackingServiceSecrets {
  /** The runtime role of each database (the services). @default Secret `rallyforge-postgresql`, keys `<SERVICE>_DATABASE_URL` */
  readonly databaseUrls?: Partial<Record<ServiceName, SecretKeyRef>>;
  /**
   * The owner role of each database, for the migration Jobs only (docs/adr/0005-row-level-security.md).
   * @default Secret `rallyforge-postgresql`, keys `<SERVICE>_MIGRATION_DATABASE_URL`
   */
  readonly migrationDatabaseUrls?: Partial<Record<ServiceName, SecretKeyRef>>;
  /** @default Secret `rallyforge-redis`, key `REDIS_URL` */
  readonly redisUrl?: SecretKeyRef;
  /** @default Secret `rallyforge-rabbitmq`, key `AMQP_URL` */
  readonly amqpUrl?: SecretKeyRef;
}

export interface DevelopmentModeOptions {
  /** Run PostgreSQL, Redis and RabbitMQ in the cluster instead of using the external ones. */
  readonly enabled: Tunable<boolean>;
  /** Password of the in-cluster servers (URL-safe characters). */
  readonly password: string;
  readonly images?: DevelopmentImages;
}

/** The documents service's local storage (STORAGE_DRIVER=local). */
export interface DocumentsStorageOptions {
  /** `emptyDir` (lost with the pod) or `persistentVolumeClaim`. @default 'emptyDir' */
  readonly type?: Tunable<string>;
  /** PVC size, or emptyDir size limit. @default '10Gi' */
  readonly size?: Tunable<string>;
  /** StorageClass of the PVC; empty for the cluster default. @default '' */
  readonly storageClassName?: Tunable<string>;
  /** Access mode of the PVC; several replicas on several nodes need ReadWriteMany. @default 'ReadWriteMany' */
  readonly accessMode?: Tunable<string>;
}

export interface PlatformIngressOptions {
  /** @default true */
  readonly enabled?: Tunable<boolean>;
  readonly host: string;
  readonly className?: Tunable<string>;
  readonly tls?: IngressTlsOptions;
  readonly annotations?: Tunable<Record<string, string>>;
  readonly websocketTimeoutSeconds?: Tunable<number>;
}

export interface MigrationOptions {
  /** @default true */
  readonly enabled?: Tunable<boolean>;
  readonly backoffLimit?: Tunable<number>;
  readonly activeDeadlineSeconds?: Tunable<number>;
  readonly resources?: Tunable<ResourceRequirements>;
}

export interface RallyForgePlatformProps {
  /** @default 'rallyforge' */
  readonly namePrefix?: string;
  /** @default namePrefix */
  readonly instance?: string;
  readonly image: PlatformImageOptions;
  /** @default {} */
  readonly services?: Partial<Record<ServiceName, PlatformServiceOptions>>;
  /** Probe timings shared by all services. @default - RallyForgeService's */
  readonly probes?: ServiceProbes;
  /** Pod placement shared by all services. @default {} */
  readonly pod?: PodOptions;
  /** @default - see PlatformConfig */
  readonly config?: PlatformConfig;
  /** @default - see BackingServiceSecrets */
  readonly backingServices?: BackingServiceSecrets;
  /** @default - disabled: managed PostgreSQL, Redis and RabbitMQ */
  readonly development?: DevelopmentModeOptions;
  /** @default - emptyDir */
  readonly documentsStorage?: DocumentsStorageOptions;
  /** PAYMENT_PROVIDER of the payments service. @default 'stripe' */
  readonly paymentProvider?: Tunable<string>;
  readonly ingress: PlatformIngressOptions;
  /** @default - enabled */
  readonly migrations?: MigrationOptions;
  /** @default - RallyForgeService's */
  readonly networkPolicy?: ServiceNetworkPolicyOptions;
  /** @default - RallyForgeService's */
  readonly serviceMonitor?: ServiceMonitorOptions;
}

/** Default Secret names and keys of the external backing services. */
export const BACKING_SERVICE_DEFAULTS = {
  postgresqlSecret: 'rallyforge-postgresql',
  redisSecret: 'rallyforge-redis',
  rabbitmqSecret: 'rallyforge-rabbitmq',
  databaseUrlKey: (service: ServiceName) => `${service.toUpperCase()}_DATABASE_URL`,
  migrationDatabaseUrlKey: (service: ServiceName) => `${service.toUpperCase()}_MIGRATION_DATABASE_URL`,
  redisUrlKey: 'REDIS_URL',
  amqpUrlKey: 'AMQP_URL',
} as const;

/** Services whose API the others call over HTTP (their NetworkPolicy admits the callers). */
const CALLED_BY: Partial<Record<ServiceName, ServiceName[]>> = {
  // Every other service fetches the JSON Web Key Set to verify access tokens.
  auth: ['claims', 'payments', 'documents', 'realtime'],
};

const DOCUMENTS_DIR = '/data/documents';

/**
 * The RallyForge platform: the five services, their ingress, their configuration and the
 * references to PostgreSQL, Redis and RabbitMQ (external by default; development mode runs them
 * in the cluster), and the database migrations that run before each install and upgrade.
 */
export class RallyForgePlatform extends Construct {
  public readonly services: Record<ServiceName, RallyForgeService>;
  public readonly migrations: DatabaseMigration[] = [];
  /** Absent when `ingress.enabled` is the literal `false`. */
  public readonly ingress?: PlatformIngress;
  public readonly development?: DevelopmentBackingServices;

  public constructor(scope: Construct, id: string, props: RallyForgePlatformProps) {
    super(scope, id);
    const namePrefix = props.namePrefix ?? 'rallyforge';
    const instance = props.instance ?? namePrefix;
    const config = props.config ?? {};
    const host = props.ingress.host;
    const image = (service: string) =>
      `${props.image.registry ?? 'ghcr.io'}/${props.image.repositoryPrefix ?? 'rallyforge'}/${service}:${props.image.tag}`;

    const dev = props.development;
    const devEnabled: Tunable<boolean> = dev?.enabled ?? false;
    if (dev && (isHelmValue(devEnabled) || devEnabled)) {
      this.development = new DevelopmentBackingServices(this, 'Development', {
        namePrefix,
        instance,
        password: dev.password,
        images: dev.images,
        enabled: devEnabled,
      });
    }
    const secrets = this.resolveSecrets(props.backingServices ?? {}, devEnabled, this.development?.secretName);
    const secretEnv = (ref: SecretKeyRef, id: string) =>
      kplus.EnvValue.fromSecretValue({ secret: kplus.Secret.fromSecretName(this, id, ref.secretName), key: ref.key });

    const authUrl = `http://${namePrefix}-auth:3000`;
    const sharedEnv: Record<string, kplus.EnvValue> = {
      LOG_LEVEL: kplus.EnvValue.fromValue(stringOf(config.logLevel ?? 'info')),
      REDIS_URL: secretEnv(secrets.redisUrl, 'RedisUrl'),
      AMQP_URL: secretEnv(secrets.amqpUrl, 'AmqpUrl'),
      AUTH_ISSUER: kplus.EnvValue.fromValue(config.authIssuer ?? `https://${host}`),
      AUTH_AUDIENCE: kplus.EnvValue.fromValue(config.authAudience ?? 'rallyforge'),
      CORS_ORIGINS: kplus.EnvValue.fromValue(config.corsOrigins ?? `https://${host}`),
      TRUSTED_PROXIES: kplus.EnvValue.fromValue(stringOf(config.trustedProxies ?? DEFAULT_TRUSTED_PROXY_CIDRS)),
      OTEL_TRACES_EXPORTER: kplus.EnvValue.fromValue(stringOf(config.otelTracesExporter ?? 'none')),
      OTEL_EXPORTER_OTLP_ENDPOINT: kplus.EnvValue.fromValue(stringOf(config.otelEndpoint ?? '')),
      TENANCY_MODE: kplus.EnvValue.fromValue(stringOf(config.tenancyMode ?? 'shared')),
      TENANT_ID: kplus.EnvValue.fromValue(stringOf(config.tenantId ?? '')),
    };

    const documentsStorage = this.documentsVolume(namePrefix, instance, props.documentsStorage ?? {});
    const services = {} as Record<ServiceName, RallyForgeService>;
    for (const service of SERVICE_NAMES) {
      const options = props.services?.[service] ?? {};
      const env: Record<string, kplus.EnvValue> = { ...sharedEnv };
      if (secrets.databaseUrls[service]) {
        env.DATABASE_URL = secretEnv(secrets.databaseUrls[service]!, `${service}-database-url`);
      }
      if (service !== 'auth') {
        env.AUTH_JWKS_URL = kplus.EnvValue.fromValue(config.jwksUrl ?? `${authUrl}${JWKS_PATH}`);
      }
      const volumes: ServiceVolume[] = [];
      if (service === 'documents') {
        env.STORAGE_DRIVER = kplus.EnvValue.fromValue('local');
        env.STORAGE_LOCAL_DIR = kplus.EnvValue.fromValue(DOCUMENTS_DIR);
        volumes.push(documentsStorage);
      }
      if (service === 'payments') {
        env.PAYMENT_PROVIDER = kplus.EnvValue.fromValue(stringOf(props.paymentProvider ?? 'stripe'));
      }
      services[service] = new RallyForgeService(this, service, {
        service,
        image: image(service),
        imagePullPolicy: props.image.pullPolicy,
        namePrefix,
        instance,
        env,
        extraEnv: options.extraEnv,
        replicas: options.replicas,
        autoscaling: options.autoscaling,
        resources: options.resources,
        disruptionBudget: options.disruptionBudget,
        probes: props.probes,
        pod: props.pod,
        volumes,
        networkPolicy: props.networkPolicy,
        serviceMonitor: props.serviceMonitor,
      });
    }
    this.services = services;
    for (const [callee, callers] of Object.entries(CALLED_BY) as Array<[ServiceName, ServiceName[]]>) {
      for (const caller of callers) {
        services[callee].allowFrom(services[caller]);
      }
    }

    const ingressEnabled = props.ingress.enabled ?? true;
    this.ingress = !isHelmValue(ingressEnabled) && !ingressEnabled ? undefined : new PlatformIngress(this, 'Ingress', {
      namePrefix,
      instance,
      services: SERVICE_NAMES.map((s) => services[s]),
      websocket: services.realtime,
      host,
      className: props.ingress.className,
      tls: props.ingress.tls,
      annotations: props.ingress.annotations,
      websocketTimeoutSeconds: props.ingress.websocketTimeoutSeconds,
      enabled: props.ingress.enabled,
    });

    const migrations = props.migrations ?? {};
    const migrationsEnabled = migrations.enabled ?? true;
    if (isHelmValue(migrationsEnabled) || migrationsEnabled) {
      for (const service of DATABASE_SERVICES) {
        this.migrations.push(
          new DatabaseMigration(this, `${service}-migration`, {
            service,
            image: image(service),
            imagePullPolicy: props.image.pullPolicy,
            namePrefix,
            instance,
            databaseUrl: secrets.databaseUrls[service]!,
            migrationDatabaseUrl: secrets.migrationDatabaseUrls[service],
            env: { LOG_LEVEL: sharedEnv.LOG_LEVEL },
            hookEvents: chooseString(devEnabled, POST_INSTALL_HOOKS, PRE_INSTALL_HOOKS),
            enabled: migrationsEnabled,
            backoffLimit: migrations.backoffLimit ?? MIGRATION_DEFAULTS.backoffLimit,
            activeDeadlineSeconds: migrations.activeDeadlineSeconds ?? MIGRATION_DEFAULTS.activeDeadlineSeconds,
            resources: migrations.resources,
            imagePullSecrets: props.pod?.imagePullSecrets,
          }),
        );
      }
    }
  }

  /** The Secrets the services read: the external ones, or development mode's own. */
  private resolveSecrets(external: BackingServiceSecrets, devEnabled: Tunable<boolean>, devSecret: string | undefined) {
    const d = BACKING_SERVICE_DEFAULTS;
    const pick = (ref: SecretKeyRef, devKey: string): SecretKeyRef =>
      devSecret === undefined
        ? ref
        : { secretName: chooseString(devEnabled, devSecret, ref.secretName), key: chooseString(devEnabled, devKey, ref.key) };
    const databaseUrls: Partial<Record<ServiceName, SecretKeyRef>> = {};
    const migrationDatabaseUrls: Partial<Record<ServiceName, SecretKeyRef>> = {};
    for (const service of DATABASE_SERVICES) {
      const ref = external.databaseUrls?.[service] ?? { secretName: d.postgresqlSecret, key: d.databaseUrlKey(service) };
      databaseUrls[service] = pick(ref, DEV_SECRET_KEYS.databaseUrl(service));
      const owner = external.migrationDatabaseUrls?.[service] ?? { secretName: d.postgresqlSecret, key: d.migrationDatabaseUrlKey(service) };
      migrationDatabaseUrls[service] = pick(owner, DEV_SECRET_KEYS.migrationDatabaseUrl(service));
    }
    return {
      databaseUrls,
      migrationDatabaseUrls,
      redisUrl: pick(external.redisUrl ?? { secretName: d.redisSecret, key: d.redisUrlKey }, DEV_SECRET_KEYS.redisUrl),
      amqpUrl: pick(external.amqpUrl ?? { secretName: d.rabbitmqSecret, key: d.amqpUrlKey }, DEV_SECRET_KEYS.amqpUrl),
    };
  }

  /** The documents volume: emptyDir or a PersistentVolumeClaim created here. */
  private documentsVolume(namePrefix: string, instance: string, options: DocumentsStorageOptions): ServiceVolume {
    const type = options.type ?? 'emptyDir';
    const size = options.size ?? '10Gi';
    const claimName = `${namePrefix}-documents-data`;
    const known = ['emptyDir', 'persistentVolumeClaim'];
    if (!isHelmValue(type) && !known.includes(type)) {
      throw new Error(`documentsStorage.type "${type}" is not supported: use "emptyDir" or "persistentVolumeClaim".`);
    }
    const isPvc = isHelmValue(type) ? Helm.equals(type.expr, 'persistentVolumeClaim') : undefined;
    const isEmptyDir = isHelmValue(type) ? Helm.equals(type.expr, 'emptyDir') : undefined;

    if (isHelmValue(type) || type === 'persistentVolumeClaim') {
      const storageClassName = options.storageClassName ?? '';
      const pvc = new kplus.k8s.KubePersistentVolumeClaim(this, 'DocumentsData', {
        metadata: {
          name: claimName,
          labels: {
            'app.kubernetes.io/name': 'documents',
            'app.kubernetes.io/instance': instance,
            'app.kubernetes.io/component': 'documents',
            'app.kubernetes.io/part-of': PART_OF,
          },
        },
        spec: {
          accessModes: [String(defaultOf(options.accessMode ?? 'ReadWriteMany'))],
          resources: { requests: { storage: kplus.k8s.Quantity.fromString(String(defaultOf(size))) } },
        },
      });
      const obj = ApiObject.of(pvc);
      Patch.replaceIfHelm(obj, '/spec/accessModes/0', options.accessMode);
      Patch.replaceIfHelm(obj, '/spec/resources/requests/storage', size);
      if (isHelmValue(storageClassName)) {
        // An empty storageClassName would disable dynamic provisioning: leave the key out instead.
        Patch.add(obj, '/spec/storageClassName', Helm.when(storageClassName.expr, storageClassName.toToken()));
      } else if (storageClassName) {
        Patch.add(obj, '/spec/storageClassName', storageClassName);
      }
      if (isPvc) {
        renderIf(pvc, isPvc);
      }
    }
    const emptyDir = { sizeLimit: renderOf(size) };
    const claim = { claimName };
    const source: Record<string, unknown> =
      isPvc && isEmptyDir
        ? { emptyDir: Helm.when(isEmptyDir, emptyDir), persistentVolumeClaim: Helm.when(isPvc, claim) }
        : type === 'persistentVolumeClaim'
          ? { persistentVolumeClaim: claim }
          : { emptyDir };
    return { name: 'documents', mountPath: DOCUMENTS_DIR, source };
  }
}

