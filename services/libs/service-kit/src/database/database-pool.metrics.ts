import { Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MetricsService, type PoolStats } from '../metrics/metrics.service';

/** Points the db_pool_connections gauges at the DataSource's pg Pool. */
@Injectable()
export class DatabasePoolMetrics implements OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.metrics.trackDatabasePool(() => {
      // TypeORM's PostgresDriver keeps the pg Pool as `master` once initialised.
      const pool = (this.dataSource.driver as unknown as { master?: PoolStats }).master;
      return pool && this.dataSource.isInitialized ? pool : undefined;
    });
  }
}
