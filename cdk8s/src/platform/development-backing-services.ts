import { ApiObject, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { PART_OF } from '../helm/helm-chart';
import { Helm, renderIf } from '../helm/helm-token';
import { Tunable, conditionOf } from '../helm/helm-values';
import { Patch } from '../helm/patch';
import { completeRestrictedSecurity } from '../common/restricted-pod';
import { DATABASE_SERVICES, SERVICE_DATABASES } from './service-contract';

/** Keys of the development connections Secret (the same names a dedicated tenant's Secret uses). */
export const DEV_SECRET_KEYS = {
  password: 'PASSWORD',
  redisUrl: 'REDIS_URL',
  amqpUrl: 'AMQP_URL',
  databaseUrl: (service: string) => `${service.toUpperCase()}_DATABASE_URL`,
  migrationDatabaseUrl: (service: string) => `${service.toUpperCase()}_MIGRATION_DATABASE_URL`,
} as const;

/** The runtime role of a development database (the services' DATABASE_URL; owns nothing, cannot bypass RLS). */
export const devAppRole = (database: string): string => `${database}_app`;

export interface DevelopmentImages {
  /** @default 'postgres:16-alpine' */
  readonly postgresql?: Tunable<string>;
  /** @default 'redis:7-alpine' */
  readonly redis?: Tunable<string>;
  /** @default 'rabbitmq:3.13-alpine' */
  readonly rabbitmq?: Tunable<string>;
}

export interface DevelopmentBackingServicesProps {
  /** @default 'rallyforge' */
  readonly namePrefix?: string;
  /** @default namePrefix */
  readonly instance?: string;
  /**
   * Password of the `rallyforge` user of all three servers. It is written into URLs as is, so use
   * URL-safe characters only (letters, digits, `-._~`).
   */
  readonly password: string;
  /** @default - see DevelopmentImages */
  readonly images?: DevelopmentImages;
  /** Render the objects only when this holds (a Helm value). @default - always */
  readonly enabled?: Tunable<boolean>;
}

export const DEVELOPMENT_DEFAULTS = {
  images: { postgresql: 'postgres:16-alpine', redis: 'redis:7-alpine', rabbitmq: 'rabbitmq:3.13-alpine' },
  user: 'rallyforge',
} as const;

interface ServerSpec {
  readonly id: 'postgresql' | 'redis' | 'rabbitmq';
  readonly image: Tunable<string>;
  readonly port: number;
  readonly uid: number;
  readonly env: Record<string, kplus.EnvValue>;
  readonly args?: string[];
  /** Writable directories (emptyDir: development data does not survive the pod). */
  readonly writable: string[];
  readonly files?: { configMap: kplus.ConfigMap; path: string };
}

/**
 * Development mode: single-replica PostgreSQL, Redis and RabbitMQ inside the cluster, plus the
 * Secret with the connection URLs the services read. Data lives in emptyDir volumes. Not for
 * production: there the platform uses managed services (the seeds' cloud phases).
 */
export class DevelopmentBackingServices extends Construct {
  /** Name of the Secret with PASSWORD, <SERVICE>_DATABASE_URL, REDIS_URL and AMQP_URL. */
  public readonly secretName: string;
  private readonly namePrefix: string;
  private readonly instance: string;
  private readonly condition?: string;

  public constructor(scope: Construct, id: string, props: DevelopmentBackingServicesProps) {
    super(scope, id);
    this.namePrefix = props.namePrefix ?? 'rallyforge';
    this.instance = props.instance ?? this.namePrefix;
    this.condition = conditionOf(props.enabled ?? true);
    this.secretName = `${this.namePrefix}-dev-connections`;
    const images = { ...DEVELOPMENT_DEFAULTS.images, ...props.images };
    const user = DEVELOPMENT_DEFAULTS.user;
    const host = (server: string) => `${this.namePrefix}-dev-${server}`;
    const password = props.password;

    const secret = new kplus.Secret(this, 'Connections', {
      metadata: { name: this.secretName, labels: this.labels('connections') },
      stringData: {
        [DEV_SECRET_KEYS.password]: password,
        // Services connect as each database's runtime role; migrations as the owner (docs/adr/0005-row-level-security.md).
        ...Object.fromEntries(
          DATABASE_SERVICES.map((s) => [
            DEV_SECRET_KEYS.databaseUrl(s),
            `postgresql://${devAppRole(SERVICE_DATABASES[s]!)}:${password}@${host('postgresql')}:5432/${SERVICE_DATABASES[s]}`,
          ]),
        ),
        ...Object.fromEntries(
          DATABASE_SERVICES.map((s) => [DEV_SECRET_KEYS.migrationDatabaseUrl(s), `postgresql://${user}:${password}@${host('postgresql')}:5432/${SERVICE_DATABASES[s]}`]),
        ),
        [DEV_SECRET_KEYS.redisUrl]: `redis://:${password}@${host('redis')}:6379/0`,
        [DEV_SECRET_KEYS.amqpUrl]: `amqp://${user}:${password}@${host('rabbitmq')}:5672/`,
      },
    });
    this.conditional(secret);
    const passwordEnv = kplus.EnvValue.fromSecretValue({ secret, key: DEV_SECRET_KEYS.password });

    const initScripts = new kplus.ConfigMap(this, 'PostgresqlInit', {
      metadata: { name: `${host('postgresql')}-init`, labels: this.labels('postgresql') },
      data: {
        'create-databases.sh': createDatabasesScript(DATABASE_SERVICES.map((s) => SERVICE_DATABASES[s]!)),
      },
    });
    this.conditional(initScripts);

    const servers: ServerSpec[] = [
      {
        id: 'postgresql',
        image: images.postgresql,
        port: 5432,
        uid: 70,
        env: { POSTGRES_USER: kplus.EnvValue.fromValue(user), POSTGRES_PASSWORD: passwordEnv, PGDATA: kplus.EnvValue.fromValue('/var/lib/postgresql/data/pgdata') },
        writable: ['/var/lib/postgresql/data', '/var/run/postgresql'],
        files: { configMap: initScripts, path: '/docker-entrypoint-initdb.d' },
      },
      {
        id: 'redis',
        image: images.redis,
        port: 6379,
        uid: 999,
        env: { REDIS_PASSWORD: passwordEnv },
        // Kubernetes expands $(REDIS_PASSWORD) from the env above; the password never appears in the spec.
        args: ['--requirepass', '$(REDIS_PASSWORD)', '--save', '', '--appendonly', 'no'],
        writable: ['/data'],
      },
      {
        id: 'rabbitmq',
        image: images.rabbitmq,
        port: 5672,
        uid: 100,
        env: {
          RABBITMQ_DEFAULT_USER: kplus.EnvValue.fromValue(user),
          RABBITMQ_DEFAULT_PASS: passwordEnv,
          HOME: kplus.EnvValue.fromValue('/var/lib/rabbitmq'),
        },
        writable: ['/var/lib/rabbitmq', '/etc/rabbitmq/conf.d'],
      },
    ];
    for (const server of servers) {
      this.addServer(server);
    }
  }

  private labels(server: string): Record<string, string> {
    return {
      'app.kubernetes.io/name': `dev-${server}`,
      'app.kubernetes.io/instance': this.instance,
      'app.kubernetes.io/component': 'development',
      'app.kubernetes.io/part-of': PART_OF,
    };
  }

  private conditional(construct: Construct): void {
    if (this.condition) {
      renderIf(construct, this.condition);
    }
  }

  private addServer(server: ServerSpec): void {
    const name = `${this.namePrefix}-dev-${server.id}`;
    const labels = this.labels(server.id);
    const selector = { 'app.kubernetes.io/name': labels['app.kubernetes.io/name'], 'app.kubernetes.io/instance': this.instance };
    const volumeMounts: kplus.VolumeMount[] = server.writable.map((path, i) => ({
      path,
      volume: kplus.Volume.fromEmptyDir(this, `${server.id}-data-${i}`, `data-${i}`),
    }));
    volumeMounts.push({ path: '/tmp', volume: kplus.Volume.fromEmptyDir(this, `${server.id}-tmp`, 'tmp') });
    if (server.files) {
      volumeMounts.push({ path: server.files.path, volume: kplus.Volume.fromConfigMap(this, `${server.id}-files`, server.files.configMap, { name: 'files' }) });
    }
    const deployment = new kplus.Deployment(this, `${server.id}-deployment`, {
      metadata: { name, labels },
      podMetadata: { labels },
      select: false,
      spread: false,
      replicas: 1,
      strategy: kplus.DeploymentStrategy.recreate(),
      automountServiceAccountToken: false,
      securityContext: { ensureNonRoot: true, user: server.uid, group: server.uid, fsGroup: server.uid },
      containers: [
        {
          name: server.id,
          image: String(server.image),
          imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
          ports: [{ number: server.port, name: server.id.slice(0, 15) }],
          args: server.args,
          envVariables: server.env,
          readiness: kplus.Probe.fromTcpSocket({ port: server.port, periodSeconds: Duration.seconds(5) }),
          liveness: kplus.Probe.fromTcpSocket({ port: server.port, periodSeconds: Duration.seconds(20), failureThreshold: 6 }),
          startup: kplus.Probe.fromTcpSocket({ port: server.port, periodSeconds: Duration.seconds(5), failureThreshold: 60 }),
          securityContext: {
            ensureNonRoot: true,
            user: server.uid,
            group: server.uid,
            privileged: false,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
          },
          volumeMounts,
        },
      ],
    });
    deployment.select(kplus.LabelSelector.of({ labels: selector }));
    const obj = ApiObject.of(deployment);
    completeRestrictedSecurity(obj, '/spec/template/spec');
    Patch.replace(obj, '/spec/template/spec/containers/0/resources', { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } });
    this.conditional(deployment);

    const service = new kplus.Service(this, `${server.id}-service`, {
      metadata: { name, labels },
      ports: [{ name: server.id.slice(0, 15), port: server.port, targetPort: server.port, protocol: kplus.Protocol.TCP }],
    });
    for (const [key, value] of Object.entries(selector)) {
      service.selectLabel(key, value);
    }
    this.conditional(service);

    // Only this installation's pods reach the development servers.
    const policy = new kplus.k8s.KubeNetworkPolicy(this, `${server.id}-network-policy`, {
      metadata: { name, labels },
      spec: {
        podSelector: { matchLabels: selector },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/instance': this.instance, 'app.kubernetes.io/part-of': PART_OF } } }],
            ports: [{ port: kplus.k8s.IntOrString.fromNumber(server.port), protocol: 'TCP' }],
          },
        ],
      },
    });
    this.conditional(policy);
  }
}

/** The development password under Helm: reused from the release's Secret, generated once otherwise. */
export function helmDevelopmentPassword(chartName: string): string {
  return Helm.include(`${chartName}.developmentPassword`);
}

/**
 * The init script of the development PostgreSQL (run once, on an empty data directory, by the image's entrypoint):
 * each database owned by the server's user, plus its runtime role with the same password (read from the
 * environment, never written into the ConfigMap), granted DML on everything the owner creates.
 */
export function createDatabasesScript(databases: readonly string[]): string {
  const lines = ['#!/bin/sh', 'set -eu'];
  for (const db of databases) {
    const app = devAppRole(db);
    lines.push(
      `psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL`,
      `CREATE DATABASE ${db} OWNER "$POSTGRES_USER";`,
      `CREATE ROLE ${app} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD '$POSTGRES_PASSWORD';`,
      `REVOKE ALL ON DATABASE ${db} FROM PUBLIC;`,
      `GRANT CONNECT ON DATABASE ${db} TO ${app};`,
      'SQL',
      `psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname ${db} <<SQL`,
      'REVOKE CREATE ON SCHEMA public FROM PUBLIC;',
      `GRANT USAGE ON SCHEMA public TO ${app};`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE "$POSTGRES_USER" IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${app};`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE "$POSTGRES_USER" IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ${app};`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE "$POSTGRES_USER" REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE "$POSTGRES_USER" IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO ${app};`,
      'SQL',
    );
  }
  return `${lines.join('\n')}\n`;
}
