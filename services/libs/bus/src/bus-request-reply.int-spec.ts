import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import { Commands, PLATFORM_TENANT, type Payload as ContractPayload } from '@rallyforge/contracts';
import { lastValueFrom } from 'rxjs';
import { freshVhost } from '@rallyforge/tools/test/infra';
import { delay, metricValue, startService, waitFor, type RunningService } from '../test/bus-harness';
import { BusClient } from './bus-client';
import { BusContext } from './bus-context';
import { BusCommandFailedError, BusRequestError, BusRequestTimeoutError, BusValidationError } from './bus.errors';

type UpsertOrganisation = ContractPayload<typeof Commands.upsertOrganisation>;

let handled = 0;

@Controller()
class AuthHandlers {
  @MessagePattern('auth.organisation.upsert')
  async upsert(@Payload() data: UpsertOrganisation, @Ctx() ctx: BusContext): Promise<unknown> {
    handled++;
    if (data.displayName === 'slow') await delay(1500);
    if (data.displayName === 'conflict') throw new RpcException({ code: 'organisation_conflict', message: 'Organisation acme belongs to another operator' });
    if (data.displayName === 'crash') throw new Error('database exploded');
    return { tenantId: data.tenantId, name: data.displayName, suspended: data.suspended, caller: ctx.actor?.id, requestTenant: ctx.tenantId };
  }
}

const organisation = (displayName: string) => ({ tenantId: 'acme', displayName, registration: 'open' as const, admins: ['admin@acme.test'] }) as UpsertOrganisation;
const operator = { tenantId: PLATFORM_TENANT, actor: { kind: 'service' as const, id: 'operator', roles: ['platform'] } };

describe('bus request/reply against RabbitMQ', () => {
  let vhost: Awaited<ReturnType<typeof freshVhost>>;
  let auth: RunningService;
  let client: BusClient;

  beforeAll(async () => {
    vhost = await freshVhost('bus-rpc');
    auth = await startService(vhost.url, { service: 'auth', controllers: [AuthHandlers] });
    client = new BusClient({ url: vhost.url, service: 'operator', requestTimeoutMs: 5_000 });
  });

  afterAll(async () => {
    await client?.close();
    await auth?.close();
    await vhost?.drop();
  });

  it('returns the handler result to the caller (payload defaults applied, actor and tenant in the context)', async () => {
    const reply = await client.request(Commands.upsertOrganisation, organisation('Acme'), operator);
    expect(reply).toEqual({ tenantId: 'acme', name: 'Acme', suspended: false, caller: 'operator', requestTenant: PLATFORM_TENANT });
    // The server acks (and counts) right after sending the reply.
    await waitFor('the request to be counted', async () => (await metricValue(auth.registry, 'bus_messages_consumed_total', { type: 'auth.organisation.upsert', outcome: 'ack' })) === 1);
  });

  it('serves concurrent requests, each with its own correlation id', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `Org ${i}`);
    const replies = await Promise.all(names.map((name) => client.request<{ name: string }>(Commands.upsertOrganisation, organisation(name), operator)));
    expect(replies.map((r) => r.name)).toEqual(names);
  });

  it("turns an RpcException into an error with the handler's code", async () => {
    const error = await client.request(Commands.upsertOrganisation, organisation('conflict'), operator).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BusCommandFailedError);
    expect(error).toMatchObject({ code: 'organisation_conflict', reason: 'Organisation acme belongs to another operator' });
  });

  it('reports a crashing handler with its original message', async () => {
    const error = await client.request(Commands.upsertOrganisation, organisation('crash'), operator).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BusCommandFailedError);
    expect(error).toMatchObject({ code: 'handler_failed', reason: 'Error: database exploded' });
  });

  it('times out with a clear error when the reply does not come in time, and ignores the late reply', async () => {
    const started = Date.now();
    const error = await client.request(Commands.upsertOrganisation, organisation('slow'), { ...operator, timeoutMs: 300 }).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(BusRequestTimeoutError);
    expect((error as Error).message).toMatch(/^Request auth\.organisation\.upsert \(correlation id [0-9a-f-]{36}\) got no reply within 300 ms; check that the service/);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1_500);
    await delay(1_500); // the late reply arrives and is dropped without harm
    expect(await client.request(Commands.upsertOrganisation, organisation('after'), operator)).toMatchObject({ tenantId: 'acme' });
  });

  it('works through the Nest ClientProxy send API', async () => {
    const reply = await lastValueFrom(client.send('auth.organisation.upsert', { ...operator, data: organisation('Via send') }));
    expect(reply).toMatchObject({ tenantId: 'acme', caller: 'operator' });
  });

  it('refuses an invalid command before sending it', async () => {
    const before = handled;
    await expect(client.request(Commands.upsertOrganisation, { ...organisation('Bad'), tenantId: 'Not_A_Label' }, operator)).rejects.toThrow(BusValidationError);
    expect(handled).toBe(before);
  });

  it('fails fast when no service consumes the command', async () => {
    const empty = await freshVhost('bus-rpc-noroute');
    const lonely = new BusClient({ url: empty.url, service: 'operator' });
    try {
      const started = Date.now();
      const error = await lonely.request(Commands.upsertOrganisation, organisation('Nobody'), { ...operator, timeoutMs: 5_000 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BusRequestError);
      expect(error).toMatchObject({ code: 'bus_no_route' });
      expect((error as Error).message).toMatch(/no running service has a @MessagePattern\('auth\.organisation\.upsert'\) handler/);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await lonely.close();
      await empty.drop();
    }
  });
});
