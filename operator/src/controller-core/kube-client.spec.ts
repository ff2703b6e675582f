import { isAlreadyExists, isConflict, isGone, isNotFound, KubeApiError, KubeClient } from './kube-client';
import { CONFIG_MAPS, type KubeObject, type WatchEvent } from './resource';
import { ResourceClient } from './resource-client';
import { FakeApiServer } from './testing/fake-api-server';

describe('KubeClient', () => {
  let server: FakeApiServer;
  let client: KubeClient;

  beforeEach(async () => {
    server = await FakeApiServer.start(() => ({ status: 200, body: {} }));
    client = KubeClient.create({
      connection: { server: server.url, authenticate: async () => ({ Authorization: 'Bearer test-token' }) },
    });
  });

  afterEach(async () => {
    client.close();
    await server.close();
  });

  it('sends JSON with credentials and the right content type per patch kind', async () => {
    const configMaps = new ResourceClient<KubeObject>(client, CONFIG_MAPS);
    await configMaps.list({ namespace: 'ns', labelSelector: 'a=b', limit: 10 });
    await configMaps.patch('x', 'ns', { data: {} }, { type: 'apply', fieldManager: 'op', force: true });
    await configMaps.patch('x', 'ns', { data: {} }, { type: 'merge' });
    await configMaps.delete('x', 'ns', { propagationPolicy: 'Foreground' });

    const [list, apply, merge, remove] = server.requests;
    expect(list).toMatchObject({ method: 'GET', path: '/api/v1/namespaces/ns/configmaps', query: { labelSelector: 'a=b', limit: '10' } });
    expect(list!.headers.authorization).toBe('Bearer test-token');
    expect(list!.headers['user-agent']).toBe('rallyforge-operator');
    expect(apply).toMatchObject({ method: 'PATCH', path: '/api/v1/namespaces/ns/configmaps/x', query: { fieldManager: 'op', force: 'true' } });
    expect(apply!.headers['content-type']).toBe('application/apply-patch+yaml');
    expect(apply!.body).toEqual({ data: {} });
    expect(merge!.headers['content-type']).toBe('application/merge-patch+json');
    expect(remove).toMatchObject({ method: 'DELETE', body: { kind: 'DeleteOptions', propagationPolicy: 'Foreground' } });
  });

  it('gives a client withOwnRateLimit a bucket of its own: a drained bucket delays only its own client', async () => {
    const limited = KubeClient.create({ connection: { server: server.url }, qps: 1, burst: 1 });
    const sibling = limited.withOwnRateLimit();
    try {
      const started = Date.now();
      await limited.request({ method: 'GET', path: '/api/v1' }); // spends the one token
      await sibling.request({ method: 'GET', path: '/api/v1' }); // its own token: no wait
      expect(Date.now() - started).toBeLessThan(500);
      await limited.request({ method: 'GET', path: '/api/v1' }); // waits for the next token (1 qps)
      expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    } finally {
      limited.close();
      sibling.close();
    }
  });

  it('turns error answers into KubeApiError with the server Status', async () => {
    server.setRoute((req) =>
      req.path.endsWith('/missing')
        ? { status: 404, body: { kind: 'Status', code: 404, reason: 'NotFound', message: 'configmaps "missing" not found' } }
        : req.path.endsWith('/taken')
          ? { status: 409, body: { kind: 'Status', code: 409, reason: 'AlreadyExists', message: 'exists' } }
          : { status: 503, body: 'upstream connect error' },
    );
    const configMaps = new ResourceClient<KubeObject>(client, CONFIG_MAPS);
    const missing = await configMaps.get('missing', 'ns').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(KubeApiError);
    expect((missing as KubeApiError).message).toBe(
      'GET /api/v1/namespaces/ns/configmaps/missing failed with 404 NotFound: configmaps "missing" not found',
    );
    expect(isNotFound(missing)).toBe(true);
    expect(await configMaps.find('missing', 'ns')).toBeUndefined();
    const taken = await configMaps.get('taken', 'ns').catch((e: unknown) => e);
    expect([isConflict(taken), isAlreadyExists(taken), isGone(taken)]).toEqual([true, true, false]);
    const unavailable = (await configMaps.get('other', 'ns').catch((e: unknown) => e)) as KubeApiError;
    expect(unavailable.statusCode).toBe(503);
    expect(unavailable.status.message).toBe('upstream connect error');
  });

  it('streams watch events split across chunks and ends with the server', async () => {
    server.setRoute((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const lines = [
        { type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '2' } } },
        { type: 'BOOKMARK', object: { metadata: { resourceVersion: '5' } } },
      ]
        .map((e) => JSON.stringify(e))
        .join('\n');
      res.write(lines.slice(0, 17));
      setTimeout(() => res.end(`${lines.slice(17)}\n`), 20);
      return 'handled';
    });
    const events: WatchEvent[] = [];
    for await (const event of client.watch('/api/v1/configmaps', { resourceVersion: '1', allowWatchBookmarks: true }, new AbortController().signal)) {
      events.push(event);
    }
    expect(events.map((e) => [e.type, (e.object as KubeObject).metadata.resourceVersion])).toEqual([
      ['ADDED', '2'],
      ['BOOKMARK', '5'],
    ]);
    expect(server.requests[0]!.query).toMatchObject({ watch: 'true', resourceVersion: '1', allowWatchBookmarks: 'true' });
  });

  it('ends a watch quietly when its signal aborts, and rejects a refused watch', async () => {
    server.setRoute((_req, res) => {
      res.writeHead(200);
      res.write(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } })}\n`);
      return 'handled'; // never ends
    });
    const abort = new AbortController();
    const seen: string[] = [];
    for await (const event of client.watch('/api/v1/configmaps', {}, abort.signal)) {
      seen.push(event.type);
      abort.abort();
    }
    expect(seen).toEqual(['ADDED']);

    server.setRoute(() => ({ status: 410, body: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' } }));
    const refused = client.watch('/api/v1/configmaps', { resourceVersion: '1' }, new AbortController().signal);
    const error = await refused.next().catch((e: unknown) => e);
    expect(isGone(error)).toBe(true);
  });
});
