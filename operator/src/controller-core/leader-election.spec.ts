import { ControllerMetrics } from './metrics';
import { LeaderElector, type LeaderElectorOptions, microTime } from './leader-election';
import { FakeClock, flushMicrotasks } from './testing/fake-clock';
import { InMemoryLease, InMemoryLeaseLock } from './testing/in-memory-lease-lock';

interface Replica {
  elector: LeaderElector;
  lock: InMemoryLeaseLock;
  abort: AbortController;
  outcome: Promise<string>;
  log: Array<{ at: number; what: string }>;
}

function setup() {
  const clock = new FakeClock();
  const lease = new InMemoryLease();
  const metrics = ControllerMetrics.create();
  const replicas: Replica[] = [];
  const start = (identity: string, options: Partial<LeaderElectorOptions> = {}): Replica => {
    const lock = new InMemoryLeaseLock(lease);
    const elector = LeaderElector.create({ lock, identity, clock, metrics, random: () => 0, ...options });
    const abort = new AbortController();
    const log: Replica['log'] = [];
    const outcome = elector.run(abort.signal, {
      onStartedLeading: (leading) => {
        log.push({ at: clock.now(), what: 'started' });
        leading.addEventListener('abort', () => log.push({ at: clock.now(), what: 'leading aborted' }));
      },
      onStoppedLeading: () => log.push({ at: clock.now(), what: 'stopped' }),
      onNewLeader: (id) => log.push({ at: clock.now(), what: `leader ${id}` }),
    });
    const replica = { elector, lock, abort, outcome, log };
    replicas.push(replica);
    return replica;
  };
  const stopAll = async () => {
    for (const r of replicas) r.abort.abort();
    await flushMicrotasks();
  };
  return { clock, lease, metrics, start, stopAll };
}

describe('LeaderElector', () => {
  it('acquires a missing lease at once with the controller-runtime defaults', async () => {
    const { clock, lease, start, stopAll } = setup();
    const a = start('a');
    await flushMicrotasks();
    expect(a.elector.isLeader()).toBe(true);
    expect(lease.record).toEqual({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      acquireTime: microTime(clock.now()),
      renewTime: microTime(clock.now()),
      leaseTransitions: 0,
    });
    expect(a.log.map((l) => l.what)).toEqual(['leader a', 'started']);
    await stopAll();
  });

  it('renews every retry period while a standby waits', async () => {
    const { clock, lease, start, stopAll } = setup();
    const a = start('a');
    await flushMicrotasks();
    const b = start('b');
    await clock.advance(60_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(b.elector.isLeader()).toBe(false);
    expect(b.elector.getLeader()).toBe('a');
    // 1 create + a renewal every 2 s for a minute; the acquire time stays that of the first acquisition.
    expect(lease.writes).toHaveLength(31);
    expect(lease.record?.acquireTime).toBe(lease.writes[0]!.acquireTime);
    expect(lease.record?.renewTime).toBe(microTime(clock.now()));
    await stopAll();
  });

  it('lets a standby take over when the leader dies, never with two leaders at once', async () => {
    const { clock, lease, start, metrics, stopAll } = setup();
    const a = start('a');
    await flushMicrotasks();
    const b = start('b');
    await clock.advance(10_000);
    const lastRenewal = Date.parse(lease.record!.renewTime);

    const killedAt = clock.now();
    a.lock.partition(); // the leader stops renewing: dead, or cut off from the API server
    await clock.advance(30_000);

    const aStopped = a.log.find((l) => l.what === 'stopped')!.at;
    const bStarted = b.log.find((l) => l.what === 'started')!.at;
    expect(await a.outcome).toBe('lost');
    // The old leader gives up within its renew deadline (10 s)...
    expect(aStopped - lastRenewal).toBeLessThanOrEqual(10_000);
    // ...and the standby takes over once it has seen the record unchanged for the lease duration (15 s):
    // strictly after the old leader stopped, and at most a lease duration plus two retry periods (one to
    // observe the last renewal, one to notice the expiry) after the leader died.
    expect(bStarted).toBeGreaterThan(aStopped);
    expect(bStarted - killedAt).toBeLessThanOrEqual(15_000 + 2 * 2_000);
    expect(lease.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    expect(b.elector.isLeader()).toBe(true);

    const status = await metrics.registry.getSingleMetric('leader_election_master_status')!.get();
    expect(status.values).toEqual([{ labels: { name: 'test/lease' }, value: 1 }]);
    await stopAll();
  });

  it('releases the lease on shutdown so the standby takes over without waiting for expiry', async () => {
    const { clock, lease, start, stopAll } = setup();
    const a = start('a');
    await flushMicrotasks();
    const b = start('b');
    await clock.advance(5_000);

    a.abort.abort();
    expect(await a.outcome).toBe('stopped');
    expect(lease.record).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    const releasedAt = clock.now();
    await clock.advance(3_000);
    const bStarted = b.log.find((l) => l.what === 'started')!.at;
    expect(bStarted - releasedAt).toBeLessThanOrEqual(2_000);
    expect(lease.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    await stopAll();
  });

  it('releases even when the answer to its last renewal was lost', async () => {
    const { clock, lease, start } = setup();
    const a = start('a');
    await flushMicrotasks();
    a.lock.loseNextAnswer();
    await clock.advance(2_000); // renewed on the server, but this replica never saw the new version
    a.abort.abort();
    expect(await a.outcome).toBe('stopped');
    expect(lease.record).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
  });

  it('keeps the lease when told not to release on cancel', async () => {
    const { lease, start } = setup();
    const a = start('a', { releaseOnCancel: false });
    await flushMicrotasks();
    a.abort.abort();
    expect(await a.outcome).toBe('stopped');
    expect(lease.record?.holderIdentity).toBe('a');
  });

  it('reports a leader stuck renewing as unhealthy after the lease duration', async () => {
    const { clock, start, stopAll } = setup();
    const a = start('a');
    await flushMicrotasks();
    expect(a.elector.check()).toBeUndefined();
    a.lock.hang(); // calls never return: the renew deadline cannot fire through a hung await
    await clock.advance(14_000);
    expect(a.elector.check()).toBeUndefined();
    await clock.advance(10_000);
    expect(a.elector.check(5_000)).toMatch(/Failed to renew lease test\/lease/);
    await stopAll();
  });

  it('recovers from a transient error without losing leadership', async () => {
    const { clock, start, stopAll } = setup();
    const a = start('a');
    await flushMicrotasks();
    await clock.advance(2_000);
    a.lock.partition();
    await clock.advance(6_000);
    a.lock.heal();
    await clock.advance(10_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.log.map((l) => l.what)).toEqual(['leader a', 'started']);
    await stopAll();
  });

  it('rejects settings that could let two replicas lead at once', () => {
    const lock = new InMemoryLeaseLock(new InMemoryLease());
    expect(() => LeaderElector.create({ lock, identity: 'a', leaseDurationMs: 10_000, renewDeadlineMs: 10_000 })).toThrow(
      /leaseDurationMs must be greater than renewDeadlineMs/,
    );
    expect(() => LeaderElector.create({ lock, identity: 'a', renewDeadlineMs: 2_000, retryPeriodMs: 2_000 })).toThrow(
      /renewDeadlineMs must be greater than 1.2 × retryPeriodMs/,
    );
    expect(() => LeaderElector.create({ lock, identity: '' })).toThrow(/identity must not be empty/);
  });
});
