import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '@rallyforge/service-kit';
import type Redis from 'ioredis';

/**
 * Atomically: drop expired leases, refuse when the user holds `limit` live ones, else add this one. A sorted set
 * per user (member = connection id, score = expiry in ms) so that the limit holds across all instances and a
 * crashed instance's connections expire by themselves.
 */
const ACQUIRE_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`;

export interface Lease {
  key: string;
  connectionId: string;
}

/** Per-user connection leases in Redis: the cross-instance count behind REALTIME_MAX_CONNECTIONS_PER_USER. */
@Injectable()
export class ConnectionLeaseRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** True when the lease was granted; false when the user is at `limit`. */
  async acquire(lease: Lease, limit: number, ttlMs: number, now = Date.now()): Promise<boolean> {
    const granted = await this.redis.eval(ACQUIRE_SCRIPT, 1, lease.key, now, now + ttlMs, lease.connectionId, limit, ttlMs);
    return granted === 1;
  }

  /** Pushes the expiry of live leases forward (only existing members: a released lease is not revived). */
  async renew(leases: readonly Lease[], ttlMs: number, now = Date.now()): Promise<void> {
    if (leases.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const lease of leases) {
      pipeline.zadd(lease.key, 'XX', now + ttlMs, lease.connectionId);
      pipeline.pexpire(lease.key, ttlMs);
    }
    await pipeline.exec();
  }

  async release(lease: Lease): Promise<void> {
    await this.redis.zrem(lease.key, lease.connectionId);
  }
}
