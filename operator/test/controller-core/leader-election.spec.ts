import { KubeLeaseLock, LeaderElector, type LeadershipOutcome } from '../../src/controller-core/leader-election';
import { LEASES, type KubeObject } from '../../src/controller-core/resource';
import { ResourceClient } from '../../src/controller-core/resource-client';
import { CLUSTER_TIMEOUT_MS, connectTestCluster, eventually, type TestCluster } from '../support/test-cluster';

interface Lease extends KubeObject {
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; leaseTransitions?: number; renewTime?: string };
}

// Short but valid timings (lease > renew deadline > 1.2 × retry), so that a takeover takes seconds, not 15.
const TIMING = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 };

describe('LeaderElector against a real kube-apiserver', () => {
  let cluster: TestCluster;
  let leases: ResourceClient<Lease>;

  beforeAll(async () => {
    cluster = await connectTestCluster('leader');
    leases = new ResourceClient<Lease>(cluster.client, LEASES);
  }, CLUSTER_TIMEOUT_MS);

  afterAll(() => cluster?.close());

  function candidate(identity: string, leaseName: string, releaseOnCancel = true) {
    const elector = LeaderElector.create({
      lock: new KubeLeaseLock(cluster.client, cluster.namespace, leaseName),
      identity,
      releaseOnCancel,
      ...TIMING,
    });
    const abort = new AbortController();
    const timeline: { startedAt?: number; stoppedAt?: number } = {};
    const outcome: Promise<LeadershipOutcome> = elector.run(abort.signal, {
      onStartedLeading: () => (timeline.startedAt = Date.now()),
      onStoppedLeading: () => (timeline.stoppedAt = Date.now()),
    });
    return { elector, abort, timeline, outcome };
  }

  it('elects one of two candidates; the standby takes over within the lease duration when the leader dies', async () => {
    // releaseOnCancel: false makes stopping it look like a crash from outside: no more renewals, no release.
    const a = candidate('replica-a', 'failover', false);
    await eventually(() => a.elector.isLeader(), 10_000, 'replica-a to lead');
    const b = candidate('replica-b', 'failover');
    await new Promise((resolve) => setTimeout(resolve, 2 * TIMING.leaseDurationMs));
    expect(b.elector.isLeader()).toBe(false);
    expect(b.elector.getLeader()).toBe('replica-a');
    const held = await leases.get('failover', cluster.namespace);
    expect(held.spec).toMatchObject({ holderIdentity: 'replica-a', leaseDurationSeconds: 3, leaseTransitions: 0 });

    // The leader dies: it stops renewing and never releases the lease.
    const killedAt = Date.now();
    a.abort.abort();
    await eventually(() => b.elector.isLeader(), 10_000, 'replica-b to take over');
    const takeover = b.timeline.startedAt! - killedAt;
    // Bound: the lease duration, plus up to one retry period to have observed the last renewal and one to
    // notice the expiry (plus jitter and API round trips).
    expect(takeover).toBeGreaterThanOrEqual(TIMING.leaseDurationMs - TIMING.retryPeriodMs);
    expect(takeover).toBeLessThanOrEqual(TIMING.leaseDurationMs + 2 * TIMING.retryPeriodMs * 2.2);
    expect(await a.outcome).toBe('stopped');

    const taken = await leases.get('failover', cluster.namespace);
    expect(taken.spec).toMatchObject({ holderIdentity: 'replica-b', leaseTransitions: 1 });
    b.abort.abort();
    expect(await b.outcome).toBe('stopped');
  }, 60_000);

  it('hands over at once when the leader releases the lease on shutdown', async () => {
    const a = candidate('replica-a', 'handover');
    await eventually(() => a.elector.isLeader(), 10_000, 'replica-a to lead');
    const b = candidate('replica-b', 'handover');
    await new Promise((resolve) => setTimeout(resolve, TIMING.retryPeriodMs * 3));

    const releasedAt = Date.now();
    a.abort.abort();
    expect(await a.outcome).toBe('stopped');
    const released = await leases.get('handover', cluster.namespace);
    expect(released.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });

    await eventually(() => b.elector.isLeader(), 10_000, 'replica-b to take over');
    expect(b.timeline.startedAt! - releasedAt).toBeLessThan(TIMING.leaseDurationMs);
    b.abort.abort();
    await b.outcome;
  }, 60_000);

  it('loses leadership when another writer takes the lease, without waiting for the lease to expire', async () => {
    const a = candidate('replica-a', 'stolen');
    await eventually(() => a.elector.isLeader(), 10_000, 'replica-a to lead');
    // Someone else (a misconfigured second deployment, a human) overwrites the holder.
    const lease = await leases.get('stolen', cluster.namespace);
    await leases.replace({ ...lease, spec: { ...lease.spec, holderIdentity: 'intruder' } });
    expect(await a.outcome).toBe('lost');
    expect(a.timeline.stoppedAt! - a.timeline.startedAt!).toBeGreaterThan(0);
  }, 30_000);
});
