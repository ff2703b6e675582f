import { HealthServer } from './health-server';
import { ControllerMetrics } from './metrics';

describe('HealthServer', () => {
  let server: HealthServer;
  const get = async (path: string, method = 'GET') => {
    const response = await fetch(`http://127.0.0.1:${server.port}${path}`, { method });
    return { status: response.status, body: await response.text(), type: response.headers.get('content-type') };
  };

  beforeEach(async () => {
    const metrics = ControllerMetrics.create();
    metrics.controller('widget');
    server = HealthServer.create({ port: 0, host: '127.0.0.1', registry: metrics.registry });
    await server.start();
  });

  afterEach(() => server.stop());

  it('answers ok while every check passes, and lists them when asked', async () => {
    server.addReadyzCheck('informers-synced', () => undefined);
    expect(await get('/healthz')).toMatchObject({ status: 200, body: 'ok' });
    expect(await get('/livez')).toMatchObject({ status: 200, body: 'ok' });
    expect(await get('/readyz?verbose')).toMatchObject({
      status: 200,
      body: '[+]ping ok\n[+]informers-synced ok\nreadyz check passed\n',
    });
    expect(await get('/readyz', 'HEAD')).toMatchObject({ status: 200, body: '' });
  });

  it('fails with one line per check, including thrown and slow ones', async () => {
    server.addReadyzCheck('informers-synced', () => 'not synced: configmaps');
    server.addReadyzCheck('throws', () => {
      throw new Error('boom');
    });
    server.addReadyzCheck('slow', () => new Promise(() => {}));
    const answer = await get('/readyz');
    expect(answer.status).toBe(500);
    expect(answer.body).toBe(
      '[+]ping ok\n[-]informers-synced failed: not synced: configmaps\n[-]throws failed: boom\n' +
        '[-]slow failed: no answer within 900 ms\nreadyz check failed\n',
    );
    expect(await get('/healthz')).toMatchObject({ status: 200 }); // liveness is independent of readiness
    expect(await get('/readyz/ping')).toMatchObject({ status: 200, body: 'ok' });
    expect(await get('/readyz/throws')).toMatchObject({ status: 500 });
  });

  it('serves the registry at /metrics and 404s anything else', async () => {
    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.type).toContain('text/plain');
    expect(metrics.body).toContain('controller_runtime_reconcile_total{controller="widget",result="success"} 0');
    expect((await get('/nope')).status).toBe(404);
    expect((await get('/healthz/unknown')).status).toBe(404);
    expect((await get('/healthz', 'POST')).status).toBe(405);
  });
});
