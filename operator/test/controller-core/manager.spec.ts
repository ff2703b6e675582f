import type { Request } from '../../src/controller-core/controller';
import { Manager } from '../../src/controller-core/manager';
import { CONFIG_MAPS, LEASES, type KubeObject } from '../../src/controller-core/resource';
import { ResourceClient } from '../../src/controller-core/resource-client';
import { MANAGED_BY_LABEL } from '../../src/controller-core/server-side-apply';
import { CLUSTER_TIMEOUT_MS, connectTestCluster, eventually, type TestCluster } from '../support/test-cluster';

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

const PRIMARY_LABEL = 'rallyforge.io/role';
const TIMING = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 };

describe('Manager against a real kube-apiserver', () => {
  let cluster: TestCluster;
  let configMaps: ResourceClient<ConfigMap>;

  beforeAll(async () => {
    cluster = await connectTestCluster('manager');
    configMaps = new ResourceClient<ConfigMap>(cluster.client, CONFIG_MAPS);
  }, CLUSTER_TIMEOUT_MS);

  const started: Array<{ abort: AbortController; running: Promise<void> }> = [];
  const afterCleanup: Array<() => void> = [];
  afterEach(async () => {
    for (const step of afterCleanup.splice(0)) step();
    // Whatever a failed test left running stops before the namespace goes.
    const left = started.splice(0);
    for (const operator of left) operator.abort.abort();
    await Promise.allSettled(left.map((operator) => operator.running));
  });

  afterAll(() => cluster?.close());

  /**
   * A tiny operator: every ConfigMap labelled role=<role> gets a `<name>-child` ConfigMap it owns, applied with
   * server-side apply, and an Event.
   */
  function mirrorOperator(identity: string, role: string, options: { leaderElection?: boolean; block?: Promise<void> } = {}) {
    const manager = Manager.create({
      client: cluster.client,
      leaderElection: options.leaderElection === false ? false : { namespace: cluster.namespace, name: `mirror-${role}`, identity, ...TIMING },
      healthProbe: { port: 0, host: '127.0.0.1' },
      gracefulShutdownTimeoutMs: 10_000,
    });
    const applier = manager.applier();
    const recorder = manager.eventRecorder();
    const reconciled: string[] = [];
    manager.addController({
      name: `mirror-${role}`,
      for: { resource: CONFIG_MAPS, namespace: cluster.namespace, labelSelector: `${PRIMARY_LABEL}=${role}`, resyncPeriodMs: 0 },
      owns: [{ resource: CONFIG_MAPS, namespace: cluster.namespace, labelSelector: `${MANAGED_BY_LABEL}=rallyforge-operator` }],
      reconciler: {
        async reconcile(request: Request) {
          reconciled.push(request.name);
          await options.block;
          const primary = await configMaps.find(request.name, request.namespace);
          if (!primary || primary.metadata.deletionTimestamp) return;
          await applier.apply(CONFIG_MAPS, {
            metadata: {
              name: `${request.name}-child`,
              namespace: request.namespace,
              ownerReferences: [
                { apiVersion: 'v1', kind: 'ConfigMap', name: request.name, uid: primary.metadata.uid!, controller: true, blockOwnerDeletion: true },
              ],
            },
            data: { ...primary.data, mirroredBy: identity },
          });
          recorder.record(primary, 'Normal', 'Mirrored', `Applied ${request.name}-child`);
        },
      },
    });
    const abort = new AbortController();
    const running = manager.start(abort.signal);
    const probe = async (path: string) => {
      const response = await fetch(`http://127.0.0.1:${manager.healthServer!.port}${path}`);
      return { status: response.status, body: await response.text() };
    };
    const operator = { manager, reconciled, abort, running, probe };
    started.push(operator);
    return operator;
  }

  const primary = (name: string, role: string, data: Record<string, string> = {}): ConfigMap => ({
    metadata: { name, namespace: cluster.namespace, labels: { [PRIMARY_LABEL]: role } },
    data,
  });

  it('reconciles on the leader only, corrects drift of owned objects, serves probes and metrics, and fails over', async () => {
    const a = mirrorOperator('replica-a', 'ha');
    await eventually(() => a.manager.isLeader(), 10_000, 'replica-a to lead');
    const b = mirrorOperator('replica-b', 'ha');
    await eventually(async () => (await b.probe('/readyz')).status === 200, 10_000, 'the standby to be ready (warm cache)');

    await configMaps.create(primary('alpha', 'ha', { plan: 'shared' }));
    const child = await eventually(() => configMaps.find('alpha-child', cluster.namespace), 10_000, 'alpha-child');
    expect(child.data).toEqual({ plan: 'shared', mirroredBy: 'replica-a' });
    expect(b.reconciled).toEqual([]);

    // Someone deletes the owned object: its watch event reconciles the owner, which puts it back.
    await configMaps.delete('alpha-child', cluster.namespace);
    await eventually(
      async () => {
        const recreated = await configMaps.find('alpha-child', cluster.namespace);
        return recreated !== undefined && recreated.metadata.uid !== child.metadata.uid;
      },
      10_000,
      'alpha-child re-created',
    );
    // ...and an edit of the primary propagates.
    await configMaps.patch('alpha', cluster.namespace, { data: { plan: 'dedicated' } }, { type: 'merge' });
    await eventually(async () => (await configMaps.find('alpha-child', cluster.namespace))?.data?.plan === 'dedicated', 10_000, 'the edit');

    expect(await a.probe('/healthz')).toEqual({ status: 200, body: 'ok' });
    expect((await a.probe('/readyz?verbose')).body).toContain('[+]informers-synced ok');
    const metrics = (await a.probe('/metrics')).body;
    expect(metrics).toMatch(/controller_runtime_reconcile_total\{controller="mirror-ha",result="success"\} [1-9]/);
    expect(metrics).toContain('workqueue_depth{name="mirror-ha"} 0');
    expect(metrics).toContain('leader_election_master_status{name="mirror-ha"} 1');
    expect((await b.probe('/metrics')).body).toContain('leader_election_master_status{name="mirror-ha"} 0');

    // Graceful stop of the leader releases the lease; the standby takes over and reconciles from its warm cache.
    a.abort.abort();
    await a.running;
    await eventually(() => b.manager.isLeader(), 10_000, 'replica-b to take over');
    await configMaps.create(primary('beta', 'ha'));
    const betaChild = await eventually(() => configMaps.find('beta-child', cluster.namespace), 10_000, 'beta-child');
    expect(betaChild.data?.mirroredBy).toBe('replica-b');
    // On taking over, the new leader reconciles every existing object once (level-based).
    expect(b.reconciled).toEqual(expect.arrayContaining(['alpha', 'beta']));

    b.abort.abort();
    await b.running;
    const lease = await new ResourceClient<KubeObject & { spec: { holderIdentity?: string } }>(cluster.client, LEASES).get(
      'mirror-ha',
      cluster.namespace,
    );
    expect(lease.spec.holderIdentity).toBe('');
  }, 90_000);

  it('on shutdown fails readiness, lets the in-flight reconcile finish, then stops', async () => {
    let unblock!: () => void;
    const block = new Promise<void>((resolve) => (unblock = resolve));
    const operator = mirrorOperator('solo', 'graceful', { leaderElection: false, block });
    // Unblocked whatever happens, so a failure below cannot leave the reconcile (and afterEach) waiting forever.
    afterCleanup.push(unblock);
    await configMaps.create(primary('slow', 'graceful'));
    // Generous: the first sync of a fresh namespace's informers is slow when the whole suite shares two cores.
    await eventually(() => operator.reconciled.includes('slow'), 30_000, 'the reconcile to start');

    let stopped = false;
    operator.abort.abort();
    void operator.running.then(() => (stopped = true));
    await eventually(async () => (await operator.probe('/readyz')).status === 500, 5_000, 'readiness to fail');
    expect((await operator.probe('/readyz')).body).toContain('[-]shutdown failed: shutting down');
    expect(stopped).toBe(false);

    unblock();
    await operator.running;
    expect(stopped).toBe(true);
    // The reconcile completed its writes before the manager stopped.
    expect(await configMaps.find('slow-child', cluster.namespace)).toBeDefined();
  }, 60_000);
});
