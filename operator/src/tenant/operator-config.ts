/**
 * The operator's settings, from its environment (the operator chart sets these; `npm run up` sets them for the
 * local control plane). Every variable is validated; a bad one fails start-up with a message naming it.
 */
import { z } from 'zod';
import { DEFAULT_TENANT_SETTINGS, type TenantSettings } from './operator-settings';

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .optional()
    .transform((v) => (v === undefined ? fallback : ['true', '1', 'yes'].includes(v)));
const positiveInt = (fallback: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().positive().max(max).optional().transform((v) => v ?? fallback);
const url = (protocols: string[]) =>
  z
    .string()
    .url()
    .refine((v) => protocols.includes(new URL(v).protocol), { message: `must be a ${protocols.join(' or ')} URL` });
const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label (lower-case letters, digits, dashes)').max(63);
const csv = z
  .string()
  .optional()
  .transform((v) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : []));

const schema = z.object({
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  POD_NAMESPACE: dnsLabel.default('rallyforge-system'),
  LEADER_ELECTION: bool(true),
  LEADER_ELECTION_LEASE_NAME: dnsLabel.default('rallyforge-operator'),
  HEALTH_PORT: positiveInt(8081, 65535),
  METRICS_PORT: positiveInt(8080, 65535),
  MAX_CONCURRENT_RECONCILES: positiveInt(4, 256),
  KUBE_API_QPS: positiveInt(20, 10_000),
  KUBE_API_BURST: positiveInt(30, 10_000),
  TENANT_NAMESPACE_PREFIX: z.string().regex(/^[a-z]([-a-z0-9]*-)?$/, 'must be lower-case letters, digits and dashes, ending with a dash (e.g. rf-)').max(10).default(DEFAULT_TENANT_SETTINGS.namespacePrefix),
  RESYNC_PERIOD_SECONDS: positiveInt(DEFAULT_TENANT_SETTINGS.resyncPeriodMs / 1000, 86_400),
  DELETION_TIMEOUT_SECONDS: positiveInt(DEFAULT_TENANT_SETTINGS.deletionTimeoutMs / 1000, 86_400),
  PLATFORM_NAMESPACE: dnsLabel.default(DEFAULT_TENANT_SETTINGS.platformNamespace),
  INGRESS_CONTROLLER_NAMESPACE: dnsLabel.default(DEFAULT_TENANT_SETTINGS.ingressControllerNamespace),
  MONITORING_NAMESPACE: dnsLabel.default(DEFAULT_TENANT_SETTINGS.monitoringNamespace),
  BACKING_SERVICE_CIDRS: csv,
  TENANT_LABEL_SELECTOR: z.string().max(1000).default(''),
  DEDICATED_TENANTS: bool(true),
  DEDICATED_IMAGE_REGISTRY: z.string().default('ghcr.io'),
  DEDICATED_IMAGE_REPOSITORY_PREFIX: z.string().default('rallyforge'),
  DEDICATED_IMAGE_TAG: z.string().optional(),
  AMQP_URL: url(['amqp:', 'amqps:']),
});

/** Every variable loadOperatorConfig reads (the operator chart's env is checked against it). */
export const OPERATOR_ENV: readonly string[] = Object.keys(schema.shape);

export interface OperatorConfig {
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  podNamespace: string;
  leaderElection: false | { namespace: string; name: string };
  healthPort: number;
  metricsPort: number;
  maxConcurrentReconciles: number;
  kubeApi: { qps: number; burst: number };
  tenants: TenantSettings;
  image: { registry: string; repositoryPrefix: string; tag?: string };
  amqpUrl: string;
}

export class OperatorConfigError extends Error {
  override readonly name = 'OperatorConfigError';
}

export function loadOperatorConfig(env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new OperatorConfigError(`The operator's environment is invalid:\n${problems}\nSee operator/README.md for every setting.`);
  }
  const e = parsed.data;
  return {
    logLevel: e.LOG_LEVEL,
    podNamespace: e.POD_NAMESPACE,
    leaderElection: e.LEADER_ELECTION ? { namespace: e.POD_NAMESPACE, name: e.LEADER_ELECTION_LEASE_NAME } : false,
    healthPort: e.HEALTH_PORT,
    metricsPort: e.METRICS_PORT,
    maxConcurrentReconciles: e.MAX_CONCURRENT_RECONCILES,
    kubeApi: { qps: e.KUBE_API_QPS, burst: e.KUBE_API_BURST },
    tenants: {
      namespacePrefix: e.TENANT_NAMESPACE_PREFIX,
      platformNamespace: e.PLATFORM_NAMESPACE,
      ingressControllerNamespace: e.INGRESS_CONTROLLER_NAMESPACE,
      monitoringNamespace: e.MONITORING_NAMESPACE,
      backingServiceCidrs: e.BACKING_SERVICE_CIDRS,
      dedicatedTenants: e.DEDICATED_TENANTS,
      resyncPeriodMs: e.RESYNC_PERIOD_SECONDS * 1000,
      deletionTimeoutMs: e.DELETION_TIMEOUT_SECONDS * 1000,
      tenantSelector: e.TENANT_LABEL_SELECTOR,
    },
    image: { registry: e.DEDICATED_IMAGE_REGISTRY, repositoryPrefix: e.DEDICATED_IMAGE_REPOSITORY_PREFIX, tag: e.DEDICATED_IMAGE_TAG },
    amqpUrl: e.AMQP_URL,
  };
}
