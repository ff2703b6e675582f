import { register, Registry } from 'prom-client';
import { BusConnection, withHeartbeat } from './bus-connection';
import { BusMetrics } from './bus-metrics';

describe('withHeartbeat', () => {
  it('adds the heartbeat to the URL query unless the URL sets one', () => {
    expect(withHeartbeat('amqp://u:p@host:5672/%2F', 10)).toBe('amqp://u:p@host:5672/%2F?heartbeat=10');
    expect(withHeartbeat('amqp://host/vh?frameMax=0', 5)).toBe('amqp://host/vh?frameMax=0&heartbeat=5');
    expect(withHeartbeat('amqp://host/vh?heartbeat=30', 5)).toBe('amqp://host/vh?heartbeat=30');
  });
});

describe('BusConnection before connecting', () => {
  it('starts disconnected, unhealthy, with bus_connection_up 0', async () => {
    const registry = new Registry();
    const connection = new BusConnection({ url: 'amqp://127.0.0.1:1', name: 'unit', registry });
    expect(connection.state).toBe('disconnected');
    expect(connection.isHealthy()).toBe(false);
    expect(await registry.getSingleMetricAsString('bus_connection_up')).toContain('bus_connection_up{connection="unit"} 0');
    await connection.close();
    expect(connection.state).toBe('closed');
  });

  it('shares one set of metrics per registry', () => {
    const registry = new Registry();
    expect(BusMetrics.for(registry)).toBe(BusMetrics.for(registry));
    expect(BusMetrics.for(registry)).not.toBe(BusMetrics.for(register));
  });
});
