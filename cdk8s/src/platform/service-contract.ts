/**
 * The contract every RallyForge service image honours (built with the service kit). The constructs
 * only rely on what is written here.
 */

/** The platform services, in the order they are deployed and documented. */
export const SERVICE_NAMES = ['auth', 'claims', 'payments', 'documents', 'realtime'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** The one container of a service pod. */
export const APP_CONTAINER_NAME = 'app';
/** HTTP port of every service (env PORT). */
export const SERVICE_PORT = 3000;
/** Name of the container and Service port; the ServiceMonitor endpoint refers to it. */
export const SERVICE_PORT_NAME = 'http';

/** Health endpoints of the service kit. Liveness never checks dependencies; readiness does. */
export const HEALTH_PATHS = {
  liveness: '/health/live',
  readiness: '/health/ready',
  startup: '/health/startup',
} as const;
/** Prometheus metrics endpoint, on the service port. */
export const METRICS_PATH = '/metrics';

/** Longest a service drains in-flight work after SIGTERM (env SHUTDOWN_TIMEOUT_MS; kit default). */
export const DEFAULT_DRAIN_TIMEOUT_SECONDS = 20;

/** The database each service owns; realtime has none. */
export const SERVICE_DATABASES: Readonly<Record<ServiceName, string | undefined>> = {
  auth: 'rf_auth',
  claims: 'rf_claims',
  payments: 'rf_payments',
  documents: 'rf_documents',
  realtime: undefined,
};

/** Services that own a database, and therefore a migration Job. */
export const DATABASE_SERVICES = SERVICE_NAMES.filter((s) => SERVICE_DATABASES[s] !== undefined);

/** Runs the service's migrations and exits (present in every database service's image). */
export const MIGRATE_COMMAND = ['node', 'dist/migrate.js'];

/** Path prefix of a service's HTTP API behind the ingress. */
export function apiPath(service: ServiceName): string {
  return `/api/v1/${service}`;
}
/** WebSocket endpoint of the realtime service. */
export const WEBSOCKET_PATH = '/ws';

/** Path of the JSON Web Key Set the auth service publishes. */
export const JWKS_PATH = '/api/v1/auth/.well-known/jwks.json';

/** UID/GID of the `node` user in the service images (numeric, so runAsNonRoot can be verified). */
export const DEFAULT_RUN_AS_USER = 1000;
