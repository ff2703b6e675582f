import { KubeApiError } from '../kube-client';
import type { LeaderElectionRecord, LeaseLock } from '../leader-election';

/** One Lease shared by several InMemoryLeaseLocks, as the API server shares one object between replicas. */
export class InMemoryLease {
  record?: LeaderElectionRecord;
  version = 0;
  readonly writes: LeaderElectionRecord[] = [];
}

/**
 * A LeaseLock over an InMemoryLease with the API server's optimistic concurrency. `partition()` makes every call
 * of this replica fail (a network partition or a dead process); `hang()` makes calls never settle.
 */
export class InMemoryLeaseLock implements LeaseLock {
  readonly description = 'test/lease';
  private seenVersion = -1;
  private mode: 'ok' | 'partitioned' | 'hung' = 'ok';
  private loseAnswer = false;

  constructor(private readonly lease: InMemoryLease) {}

  partition(): void {
    this.mode = 'partitioned';
  }

  hang(): void {
    this.mode = 'hung';
  }

  heal(): void {
    this.mode = 'ok';
  }

  /** The next update is written, but its answer never arrives (a request cut short after the server acted). */
  loseNextAnswer(): void {
    this.loseAnswer = true;
  }

  async get(): Promise<LeaderElectionRecord | undefined> {
    await this.gate();
    this.seenVersion = this.lease.version;
    return this.lease.record && { ...this.lease.record };
  }

  async create(record: LeaderElectionRecord): Promise<void> {
    await this.gate();
    if (this.lease.record) throw status(409, 'AlreadyExists');
    this.write(record);
  }

  async update(record: LeaderElectionRecord): Promise<void> {
    await this.gate();
    if (this.lease.version !== this.seenVersion) throw status(409, 'Conflict');
    const seen = this.seenVersion;
    this.write(record);
    if (this.loseAnswer) {
      this.loseAnswer = false;
      this.seenVersion = seen;
      throw new Error('socket hang up (answer lost by the test)');
    }
  }

  private write(record: LeaderElectionRecord): void {
    this.lease.record = { ...record };
    this.lease.version += 1;
    this.lease.writes.push({ ...record });
    this.seenVersion = this.lease.version;
  }

  private gate(): Promise<void> {
    if (this.mode === 'partitioned') return Promise.reject(new Error('connect ETIMEDOUT (partitioned by the test)'));
    if (this.mode === 'hung') return new Promise(() => {});
    return Promise.resolve();
  }
}

function status(code: number, reason: string): KubeApiError {
  return new KubeApiError(code, { kind: 'Status', code, reason, message: reason }, 'PUT', '/lease');
}
