import { createHash } from 'node:crypto';
import { ApiObject, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { HelmChart, PART_OF } from '../helm/helm-chart';
import { renderIf } from '../helm/helm-token';
import { Tunable, conditionOf, defaultOf, renderOf } from '../helm/helm-values';
import { Patch } from '../helm/patch';
import { completeRestrictedSecurity } from '../common/restricted-pod';
import { ResourceRequirements } from './rallyforge-service';
import { DEFAULT_RUN_AS_USER, MIGRATE_COMMAND, SERVICE_DATABASES, ServiceName } from './service-contract';

/** Helm hook events that run migrations before the release's objects are applied. */
export const PRE_INSTALL_HOOKS = 'pre-install,pre-upgrade';
/**
 * Hook events when the database itself is part of the release (development mode): on first install
 * it does not exist before the release's objects, so migrations run after them.
 */
export const POST_INSTALL_HOOKS = 'post-install,pre-upgrade';

export interface SecretKeyRef {
  /** Name of an existing Secret in the release namespace. */
  readonly secretName: string;
  readonly key: string;
}

export interface DatabaseMigrationProps {
  readonly service: ServiceName;
  readonly image: string;
  /** @default 'IfNotPresent' */
  readonly imagePullPolicy?: Tunable<string>;
  /** @default 'rallyforge' */
  readonly namePrefix?: string;
  /** @default namePrefix */
  readonly instance?: string;
  /** Where the service's DATABASE_URL comes from. */
  readonly databaseUrl: SecretKeyRef;
  /**
   * Where MIGRATION_DATABASE_URL (the database owner's URL, which `migrate.js` needs in production) comes from.
   * @default - not set: migrate.js falls back to DATABASE_URL in development and test only
   */
  readonly migrationDatabaseUrl?: SecretKeyRef;
  /** Environment besides NODE_ENV, SERVICE_NAME and DATABASE_URL (LOG_LEVEL, ...). @default {} */
  readonly env?: Record<string, kplus.EnvValue>;
  /**
   * Helm hook events (`helm.sh/hook`).
   * @default PRE_INSTALL_HOOKS
   */
  readonly hookEvents?: string;
  /**
   * Render a Helm hook Job (named `<namePrefix>-<service>-migrate`, deleted by Helm once it succeeds). When false,
   * a plain Job for appliers without Helm (the operator's server-side apply) named
   * `<namePrefix>-<service>-migrate-<hash of its spec>`: a Job's pod template is immutable, so any change (a new
   * image, other settings) makes a new Job, which runs the migrations again, instead of a rejected update; an
   * unchanged spec keeps the name, so re-applying it is a no-op.
   * @default true
   */
  readonly helmHook?: boolean;
  /** Render the Job at all. @default true */
  readonly enabled?: Tunable<boolean>;
  /** @default 3 */
  readonly backoffLimit?: Tunable<number>;
  /** The whole Job, retries included, is failed after this long. @default 600 */
  readonly activeDeadlineSeconds?: Tunable<number>;
  /** @default - requests 100m / 256Mi, limits 1 CPU / 512Mi */
  readonly resources?: Tunable<ResourceRequirements>;
  /** @default [] */
  readonly imagePullSecrets?: Tunable<Array<{ name: string }>>;
  /** @default 1000 */
  readonly runAsUser?: number;
}

export const MIGRATION_DEFAULTS = {
  backoffLimit: 3,
  activeDeadlineSeconds: 600,
  resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } } as ResourceRequirements,
} as const;

/**
 * Runs a service's database migrations (`node dist/migrate.js` in the service image) as a Helm hook
 * Job: before the new version's pods start on install and upgrade, so that no pod ever runs against
 * an older schema than it expects. The Job is deleted once it succeeds; a failed Job stays for
 * `kubectl logs` until the next attempt replaces it.
 */
export class DatabaseMigration extends Construct {
  public readonly job: kplus.Job;
  private readonly helmHook: boolean;
  private readonly baseName: string;

  public constructor(scope: Construct, id: string, props: DatabaseMigrationProps) {
    super(scope, id);
    if (SERVICE_DATABASES[props.service] === undefined) {
      throw new Error(`DatabaseMigration "${props.service}": this service has no database, so it has nothing to migrate. Remove the migration.`);
    }
    const namePrefix = props.namePrefix ?? 'rallyforge';
    const runAsUser = props.runAsUser ?? DEFAULT_RUN_AS_USER;
    const helmHook = props.helmHook ?? true;
    const baseName = `${namePrefix}-${props.service}-migrate`;
    const labels = {
      'app.kubernetes.io/name': `${props.service}-migrate`,
      'app.kubernetes.io/instance': props.instance ?? namePrefix,
      'app.kubernetes.io/component': 'migrations',
      'app.kubernetes.io/part-of': PART_OF,
    };
    const tmp = kplus.Volume.fromEmptyDir(this, 'Tmp', 'tmp');
    this.job = new kplus.Job(this, 'Job', {
      metadata: {
        name: baseName,
        labels,
        annotations: helmHook
          ? {
              'helm.sh/hook': props.hookEvents ?? PRE_INSTALL_HOOKS,
              'helm.sh/hook-weight': '0',
              'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
            }
          : undefined,
      },
      podMetadata: { labels },
      select: false,
      automountServiceAccountToken: false,
      restartPolicy: kplus.RestartPolicy.NEVER,
      backoffLimit: MIGRATION_DEFAULTS.backoffLimit,
      activeDeadline: Duration.seconds(MIGRATION_DEFAULTS.activeDeadlineSeconds),
      securityContext: { ensureNonRoot: true, user: runAsUser, group: runAsUser, fsGroup: runAsUser },
      containers: [
        {
          name: 'migrate',
          image: props.image,
          imagePullPolicy: defaultOf(props.imagePullPolicy ?? kplus.ImagePullPolicy.IF_NOT_PRESENT) as kplus.ImagePullPolicy,
          command: MIGRATE_COMMAND,
          envVariables: {
            NODE_ENV: kplus.EnvValue.fromValue('production'),
            SERVICE_NAME: kplus.EnvValue.fromValue(props.service),
            DATABASE_URL: kplus.EnvValue.fromSecretValue({
              secret: kplus.Secret.fromSecretName(this, 'DatabaseUrl', props.databaseUrl.secretName),
              key: props.databaseUrl.key,
            }),
            ...(props.migrationDatabaseUrl
              ? {
                  MIGRATION_DATABASE_URL: kplus.EnvValue.fromSecretValue({
                    secret: kplus.Secret.fromSecretName(this, 'MigrationDatabaseUrl', props.migrationDatabaseUrl.secretName),
                    key: props.migrationDatabaseUrl.key,
                  }),
                }
              : {}),
            ...props.env,
          },
          securityContext: {
            ensureNonRoot: true,
            user: runAsUser,
            group: runAsUser,
            privileged: false,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
          },
          volumeMounts: [{ path: '/tmp', volume: tmp }],
        },
      ],
    });
    const job = ApiObject.of(this.job);
    completeRestrictedSecurity(job, '/spec/template/spec');
    Patch.replace(job, '/spec/template/spec/containers/0/resources', renderOf(props.resources ?? MIGRATION_DEFAULTS.resources));
    Patch.replaceIfHelm(job, '/spec/template/spec/containers/0/imagePullPolicy', props.imagePullPolicy);
    Patch.replaceIfHelm(job, '/spec/backoffLimit', props.backoffLimit);
    Patch.replaceIfHelm(job, '/spec/activeDeadlineSeconds', props.activeDeadlineSeconds);
    Patch.setOptional(job, '/spec/template/spec/imagePullSecrets', props.imagePullSecrets);
    const condition = conditionOf(props.enabled ?? true);
    if (condition) {
      renderIf(this.job, condition);
    }
    this.helmHook = helmHook;
    this.baseName = baseName;
    if (!helmHook) {
      if (HelmChart.tryOf(this)) {
        throw new Error(`DatabaseMigration "${props.service}": helmHook=false names the Job after its rendered spec, which Helm templates cannot have. Keep the hook Job in Helm charts.`);
      }
      nameAfterSpec(job, baseName);
    }
  }

  /** The Job's name: `<namePrefix>-<service>-migrate`, plus `-<spec hash>` for a plain Job (see `helmHook`). */
  public get name(): string {
    return this.helmHook ? this.baseName : String((ApiObject.of(this.job).toJson().metadata as { name: string }).name);
  }
}

/** Hex characters of the spec hash in a plain migration Job's name. */
const SPEC_HASH_LENGTH = 10;

/**
 * Names the Job `<baseName>-<hash of its finished spec>`, computed from the JSON that is synthesised (every patch
 * applied), so that the name changes exactly when the spec does.
 */
function nameAfterSpec(job: ApiObject, baseName: string): void {
  const render = job.toJson.bind(job);
  job.toJson = () => {
    const manifest = render();
    const hash = createHash('sha256').update(canonicalJson(manifest.spec)).digest('hex').slice(0, SPEC_HASH_LENGTH);
    return { ...manifest, metadata: { ...(manifest.metadata as Record<string, unknown>), name: `${baseName}-${hash}` } };
  };
}

/** JSON with every mapping's keys sorted: the same spec always hashes the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
