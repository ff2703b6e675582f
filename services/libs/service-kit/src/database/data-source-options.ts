import type { DataSourceOptions, MixedList, EntitySchema } from 'typeorm';
import type { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';

/** Pool size per replica; the seed's 20-connection ceiling is for the whole service (HPA max × pool). */
export const DEFAULT_DATABASE_POOL_MAX = 10;
export const DATABASE_CONNECT_TIMEOUT_MS = 5000;
export const DATABASE_IDLE_TIMEOUT_MS = 30_000;
/** Queries slower than this are logged as warnings. */
export const DATABASE_SLOW_QUERY_MS = 1000;

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type ClassList = MixedList<Function | string | EntitySchema>;

export interface DatabaseOptions {
  entities: ClassList;
  migrations: MixedList<Function | string>; // eslint-disable-line @typescript-eslint/no-unsafe-function-type
  /** @default DEFAULT_DATABASE_POOL_MAX */
  poolMax?: number;
}

/**
 * The one way a service's DataSource is configured, shared by the running service and `dist/migrate.js`:
 * never `synchronize`, never `migrationsRun` (migrations run in their own Job under an advisory lock).
 */
export function postgresDataSourceOptions(
  options: DatabaseOptions & { url: string; applicationName?: string },
): PostgresConnectionOptions {
  return {
    type: 'postgres',
    url: options.url,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    maxQueryExecutionTime: DATABASE_SLOW_QUERY_MS,
    applicationName: options.applicationName,
    extra: {
      max: options.poolMax ?? DEFAULT_DATABASE_POOL_MAX,
      connectionTimeoutMillis: DATABASE_CONNECT_TIMEOUT_MS,
      idleTimeoutMillis: DATABASE_IDLE_TIMEOUT_MS,
    },
  } satisfies DataSourceOptions;
}
