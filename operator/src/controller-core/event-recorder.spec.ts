import { EventRecorder } from './event-recorder';
import { KubeClient } from './kube-client';
import type { KubeObject } from './resource';
import { FakeClock } from './testing/fake-clock';
import { FakeApiServer } from './testing/fake-api-server';

const widget = (name = 'w'): KubeObject => ({
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  metadata: { name, namespace: 'ns', uid: `uid-${name}` },
});

describe('EventRecorder', () => {
  let server: FakeApiServer;
  let client: KubeClient;
  let clock: FakeClock;
  let recorder: EventRecorder;
  let missing: Set<string>;

  beforeEach(async () => {
    missing = new Set();
    server = await FakeApiServer.start((req) =>
      req.method === 'PATCH' && missing.has(req.path)
        ? { status: 404, body: { kind: 'Status', code: 404, reason: 'NotFound' } }
        : { status: 201, body: req.body ?? {} },
    );
    client = KubeClient.create({ connection: { server: server.url }, qps: 1000, burst: 1000 });
    clock = new FakeClock();
    recorder = EventRecorder.create({ client, component: 'rallyforge-operator', host: 'replica-1', clock });
  });

  afterEach(async () => {
    client.close();
    await server.close();
  });

  it('creates an Event, then counts repeats of the same one', async () => {
    recorder.record(widget(), 'Normal', 'Provisioned', 'Created namespace rf-acme');
    recorder.record(widget(), 'Normal', 'Provisioned', 'Created namespace rf-acme');
    await recorder.flush();
    const [create, patch] = server.requests;
    expect(create).toMatchObject({
      method: 'POST',
      path: '/api/v1/namespaces/ns/events',
      body: {
        involvedObject: { apiVersion: 'example.com/v1', kind: 'Widget', name: 'w', namespace: 'ns', uid: 'uid-w' },
        type: 'Normal',
        reason: 'Provisioned',
        count: 1,
        source: { component: 'rallyforge-operator', host: 'replica-1' },
        firstTimestamp: '2026-01-01T00:00:00.000Z',
      },
    });
    const name = (create!.body as KubeObject).metadata.name!;
    expect(name).toMatch(/^w\.[0-9a-f]+$/);
    expect(patch).toMatchObject({ method: 'PATCH', path: `/api/v1/namespaces/ns/events/${name}`, body: { count: 2 } });
  });

  it('starts a new Event when the aggregated one expired', async () => {
    recorder.record(widget(), 'Warning', 'ProvisionFailed', 'no database');
    await recorder.flush();
    const first = (server.requests[0]!.body as KubeObject).metadata.name!;
    missing.add(`/api/v1/namespaces/ns/events/${first}`);
    await clock.advance(1);
    recorder.record(widget(), 'Warning', 'ProvisionFailed', 'no database');
    await recorder.flush();
    expect(server.requests.map((r) => r.method)).toEqual(['POST', 'PATCH', 'POST']);
  });

  it('caps events per object (25 at once, then one per 5 minutes) and drops malformed ones', async () => {
    for (let i = 0; i < 30; i++) recorder.record(widget(), 'Normal', 'Step', `step ${i}`);
    recorder.record(widget('other'), 'Normal', 'Step', 'another object has its own budget');
    recorder.record({ metadata: { name: 'x' } }, 'Normal', 'Step', 'no kind');
    recorder.record(widget(), 'Normal', 'not camel case', 'bad reason');
    await recorder.flush();
    expect(server.requests).toHaveLength(26);
    await clock.advance(300_000);
    recorder.record(widget(), 'Normal', 'Step', 'after five minutes');
    recorder.record(widget(), 'Normal', 'Step', 'too soon again');
    await recorder.flush();
    expect(server.requests).toHaveLength(27);
  });

  it('never throws into the caller when the API fails', async () => {
    server.setRoute(() => ({ status: 500, body: { kind: 'Status', code: 500, message: 'etcd timeout' } }));
    expect(() => recorder.record(widget(), 'Normal', 'Provisioned', 'x')).not.toThrow();
    await expect(recorder.flush()).resolves.toBeUndefined();
  });
});
