import { EventRecorder } from '../../src/controller-core/event-recorder';
import { CONFIG_MAPS, EVENTS, NAMESPACES, type KubeObject } from '../../src/controller-core/resource';
import { ResourceClient } from '../../src/controller-core/resource-client';
import { CLUSTER_TIMEOUT_MS, connectTestCluster, type TestCluster } from '../support/test-cluster';

interface CoreEvent extends KubeObject {
  reason: string;
  message: string;
  type: string;
  count: number;
  involvedObject: { kind: string; name: string; namespace?: string; uid?: string };
  source: { component: string; host: string };
}

describe('EventRecorder against a real kube-apiserver', () => {
  let cluster: TestCluster;
  let recorder: EventRecorder;
  let events: ResourceClient<CoreEvent>;

  beforeAll(async () => {
    cluster = await connectTestCluster('events');
    recorder = EventRecorder.create({ client: cluster.client, component: 'rallyforge-operator', host: 'test-replica' });
    events = new ResourceClient<CoreEvent>(cluster.client, EVENTS);
  }, CLUSTER_TIMEOUT_MS);

  afterAll(() => cluster?.close());

  const about = (name: string, namespace?: string) =>
    events.list({ namespace, fieldSelector: `involvedObject.name=${name}` }).then((list) => list.items);

  it('records an event that the API shows for the object, and aggregates repeats into a count', async () => {
    const configMaps = new ResourceClient<KubeObject>(cluster.client, CONFIG_MAPS);
    const object = await configMaps.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'observed', namespace: cluster.namespace } });

    recorder.record(object, 'Normal', 'Provisioned', 'Created the tenant namespace');
    await recorder.flush();
    const [event] = await about('observed', cluster.namespace);
    expect(event).toMatchObject({
      reason: 'Provisioned',
      message: 'Created the tenant namespace',
      type: 'Normal',
      count: 1,
      involvedObject: { kind: 'ConfigMap', name: 'observed', namespace: cluster.namespace, uid: object.metadata.uid },
      source: { component: 'rallyforge-operator', host: 'test-replica' },
    });

    recorder.record(object, 'Normal', 'Provisioned', 'Created the tenant namespace');
    recorder.record(object, 'Warning', 'ProvisionFailed', 'Database unreachable: connection refused');
    await recorder.flush();
    const all = await about('observed', cluster.namespace);
    expect(all.map((e) => [e.type, e.reason, e.count]).sort()).toEqual([
      ['Normal', 'Provisioned', 2],
      ['Warning', 'ProvisionFailed', 1],
    ]);
  });

  it('files events about cluster-scoped objects in the default namespace', async () => {
    const namespace = await new ResourceClient<KubeObject>(cluster.client, NAMESPACES).get(cluster.namespace);
    recorder.record({ ...namespace, apiVersion: 'v1', kind: 'Namespace' }, 'Normal', 'Observed', 'Seen by the test');
    await recorder.flush();
    const [event] = await about(cluster.namespace, 'default');
    expect(event).toMatchObject({ reason: 'Observed', involvedObject: { kind: 'Namespace', name: cluster.namespace } });
    await events.delete(event!.metadata.name!, 'default');
  });
});
