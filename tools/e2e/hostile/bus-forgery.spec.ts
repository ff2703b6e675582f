/**
 * Hostile user, part 4: the bus. For every routing key a service's queue is bound to (read from the broker, so a new
 * handler without a case fails the suite), messages whose envelope tenant does not match the data they touch, or
 * whose actor may not send them, are refused: parked at once (the permission guard and the handlers' refusals),
 * answered with FORBIDDEN (commands), or acknowledged without effect (handlers that refuse quietly, so a forger
 * cannot fill the parked queue). Each case checks that nothing changed. Also: a message whose tenant header and
 * envelope disagree is parked, unhandled, by every service.
 */
import { randomUUID } from 'node:crypto';
import { BusCommandFailedError, ParkedMessages, createEnvelope, toOutgoingMessage, type ParkedMessage } from '@rallyforge/bus';
import { BusHeaders, Commands, Events, PLATFORM_TENANT, type Actor } from '@rallyforge/contracts';
import { multipartBody } from '@rallyforge/documents/test/documents-harness';
import { samplePdf } from '@rallyforge/documents/test/fixtures';
import { connectClient, type LiveClient } from '@rallyforge/realtime/test/ws-client';
import type { Client } from 'pg';
import { management } from '../../infra/rabbitmq';
import { eventually, SERVICES, startInProcessPlatform, type InProcessPlatform, type Json, type Member, type ServiceName } from '../../test/in-process-platform';

interface World {
  orgA: string;
  orgB: string;
  vicky: Member;
  mallory: Member;
  eve: Member;
  /** A veteran of orgA who never paid. */
  unpaid: Member;
  claimId: string;
  documentId: string;
  socket: LiveClient;
}

const AUTH: Actor = { kind: 'service', id: 'auth', roles: [] };
const OPERATOR: Actor = { kind: 'service', id: 'operator', roles: [] };
const PAYMENTS: Actor = { kind: 'service', id: 'payments', roles: [] };
const userActor = (member: Member, roles = [member.role]): Actor => ({ kind: 'user', id: member.id, roles });

let platform: InProcessPlatform;
let parked: ParkedMessages;
let world: World;

const bus = () => platform.env.bus;
const count = async (client: Client, text: string, values: unknown[]) => (await client.query(text, values)).rows[0].n as number;

/** The message parked by `service`, refused at once (not after retries). */
async function expectParked(service: ServiceName, messageId: string, error: RegExp): Promise<ParkedMessage> {
  const message = await eventually(`${messageId} in rf.${service}.parked`, async () => (await parked.list(service, 1000)).find((m) => m.messageId === messageId));
  expect(message).toMatchObject({ reason: 'rejected', attempts: 1 });
  expect(message.error).toMatch(error);
  return message;
}

/** The message was handled (its inbox row committed) by `service`. */
async function expectHandled(service: 'auth' | 'claims' | 'payments' | 'documents', messageId: string): Promise<void> {
  await eventually(`${service} to handle ${messageId}`, async () =>
    (await count(platform.sql[service], 'SELECT count(*)::int AS n FROM bus_inbox WHERE message_id = $1', [messageId])) === 1);
}

/** The command is answered FORBIDDEN. */
async function expectForbidden(request: Promise<unknown>): Promise<void> {
  const error = await request.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BusCommandFailedError);
  expect((error as BusCommandFailedError).code).toBe('FORBIDDEN');
}

/** The veteran's rows in each service, to compare before and after a forged erasure or purge. */
async function holdings(member: Member) {
  return {
    claims: await count(platform.sql.claims, 'SELECT count(*)::int AS n FROM claims WHERE owner_id = $1', [member.id]),
    documents: await count(platform.sql.documents, 'SELECT count(*)::int AS n FROM documents WHERE owner_id = $1', [member.id]),
    payments: await count(platform.sql.payments, 'SELECT count(*)::int AS n FROM payments WHERE user_id = $1', [member.id]),
  };
}

/** A gdpr_jobs row of `member`, made directly (the services would otherwise complete it at once). */
async function pendingJob(member: Member, kind: 'export' | 'deletion'): Promise<string> {
  const id = randomUUID();
  await platform.sql.auth.query(`INSERT INTO gdpr_jobs (id, tenant_id, user_id, kind, status) VALUES ($1, $2, $3, $4, 'pending')`, [id, member.org, member.id, kind]);
  return id;
}

const jobOf = async (id: string) => (await platform.sql.auth.query('SELECT status, acks, archive IS NOT NULL AS archived FROM gdpr_jobs WHERE id = $1', [id])).rows[0];

const liveEvents: Record<string, () => { contract: Parameters<InProcessPlatform['env']['bus']['publishEvent']>[0]; data: (recipient: Member) => Json }> = {
  'claim.created': () => ({ contract: Events.claimCreated, data: (r) => ({ claimId: randomUUID(), ownerId: r.id, title: 'Forged claim', type: 'pension', status: 'submitted' }) }),
  'claim.evidence_added': () => ({
    contract: Events.claimEvidenceAdded,
    data: (r) => ({ claimId: randomUUID(), ownerId: r.id, documentId: randomUUID(), filename: 'forged.pdf', evidenceCount: 1 }),
  }),
  'document.uploaded': () => ({
    contract: Events.documentUploaded,
    data: (r) => ({ documentId: randomUUID(), claimId: randomUUID(), ownerId: r.id, filename: 'forged.pdf', contentType: 'application/pdf', sizeBytes: 1, sha256: 'x' }),
  }),
  'payment.succeeded': () => ({
    contract: Events.paymentSucceeded,
    data: (r) => ({ paymentId: randomUUID(), userId: r.id, planId: 'premium-monthly', amountCents: 1, currency: 'USD', periodEnd: new Date(Date.now() + 864e5).toISOString() }),
  }),
};

/** realtime: events a user caused about someone else are parked; events of another tenant reach nobody of orgA. */
function realtimeCase(type: keyof typeof liveEvents) {
  return async (w: World) => {
    const { contract, data } = liveEvents[type]!();
    const byAnother = await bus().publishEvent(contract, data(w.vicky), { tenantId: w.orgA, actor: userActor(w.eve, ['veteran']) });
    await expectParked('realtime', byAnother.id, /another user than the one it notifies/);
    const withoutActor = await bus().publishEvent(contract, data(w.vicky), { tenantId: w.orgA });
    await expectParked('realtime', withoutActor.id, /actor is missing/);
    const otherTenant = await bus().publishEvent(contract, data(w.vicky), { tenantId: w.orgB, actor: userActor(w.vicky, ['veteran']) });
    // A genuine event afterwards arrives, so the socket was listening all along.
    const genuine = await bus().publishEvent(contract, data(w.vicky), { tenantId: w.orgA, actor: userActor(w.vicky, ['veteran']) });
    await eventually(`${type} on the victim's socket`, async () => w.socket.messages.some((m) => m.id === genuine.id));
    expect(w.socket.messages.filter((m) => [byAnother.id, withoutActor.id, otherTenant.id].includes(m.id as string))).toEqual([]);
  };
}

/** claims, payments, documents: GDPR and organisation lifecycle messages only count when auth sends them for the tenant. */
function userDataCases(service: 'claims' | 'payments' | 'documents') {
  const exportCommand = { claims: Commands.exportClaimsUserData, payments: Commands.exportPaymentsUserData, documents: Commands.exportDocumentsUserData }[service];
  return {
    [`${service} ${exportCommand.type}`]: async (w: World) => {
      await expectForbidden(bus().request(exportCommand, { userId: w.vicky.id }, { tenantId: w.orgA, actor: userActor(w.eve), timeoutMs: 15_000 }));
      await expectForbidden(bus().request(exportCommand, { userId: w.vicky.id }, { tenantId: w.orgA, actor: OPERATOR, timeoutMs: 15_000 }));
      // From auth, but for another tenant: the victim's data is not in that tenant, so nothing of it comes back.
      const other = await bus().request<Json>(exportCommand, { userId: w.vicky.id }, { tenantId: w.orgB, actor: AUTH, timeoutMs: 15_000 });
      expect(JSON.stringify(other)).not.toContain(w.vicky.id);
      expect(Object.values(other).flat()).toEqual([]);
    },
    [`${service} ${Events.userDeletionRequested.type}`]: async (w: World) => {
      const before = await holdings(w.vicky);
      expect(before[service]).toBeGreaterThan(0);
      const byUser = await bus().publishEvent(Events.userDeletionRequested, { requestId: randomUUID(), userId: w.vicky.id }, { tenantId: w.orgA, actor: userActor(w.vicky) });
      const byOperator = await bus().publishEvent(Events.userDeletionRequested, { requestId: randomUUID(), userId: w.vicky.id }, { tenantId: w.orgA, actor: OPERATOR });
      const otherTenant = await bus().publishEvent(Events.userDeletionRequested, { requestId: randomUUID(), userId: w.vicky.id }, { tenantId: w.orgB, actor: AUTH });
      for (const message of [byUser, byOperator, otherTenant]) await expectHandled(service, message.id);
      expect(await holdings(w.vicky)).toEqual(before);
    },
    [`${service} ${Events.organisationDeleted.type}`]: async (w: World) => {
      const before = await holdings(w.vicky);
      const notAuth = await bus().publishEvent(Events.organisationDeleted, { tenantId: w.orgA }, { tenantId: w.orgA, actor: OPERATOR });
      const byUser = await bus().publishEvent(Events.organisationDeleted, { tenantId: w.orgA }, { tenantId: w.orgA, actor: userActor(w.vicky, ['org_admin']) });
      const mismatch = await bus().publishEvent(Events.organisationDeleted, { tenantId: w.orgA }, { tenantId: w.orgB, actor: AUTH });
      for (const message of [notAuth, byUser, mismatch]) await expectHandled(service, message.id);
      expect(await holdings(w.vicky)).toEqual(before);
    },
  };
}

/** One case per `<service> <routing key>` the services' queues are bound to. */
const CASES: Record<string, (world: World) => Promise<void>> = {
  'auth audit.recorded': async (w) => {
    const action = `forged.entry_${randomUUID().slice(0, 8)}`;
    const entry = { action, actor: { kind: 'user' as const, id: w.vicky.id }, result: 'success' as const };
    const byUser = await bus().publishEvent(Events.auditRecorded, entry, { tenantId: w.orgA, actor: userActor(w.eve) });
    await expectParked('auth', byUser.id, /audit:record/);
    const withoutActor = await bus().publishEvent(Events.auditRecorded, entry, { tenantId: w.orgA });
    await expectParked('auth', withoutActor.id, /audit:record/);
    expect(await count(platform.sql.auth, 'SELECT count(*)::int AS n FROM audit_events WHERE action = $1', [action])).toBe(0);
  },
  'auth auth.email.requested': async (w) => {
    const mail = { template: 'password_reset' as const, to: w.vicky.email, sealedToken: 'forged', expiresAt: new Date(Date.now() + 3600_000).toISOString() };
    for (const actor of [userActor(w.eve), { kind: 'service' as const, id: 'claims', roles: [] }]) {
      const sent = await bus().publishEvent(Events.emailRequested, mail, { tenantId: w.orgA, actor });
      await expectParked('auth', sent.id, /Only auth itself may ask auth to send e-mail/);
    }
  },
  'auth auth.organisation.deprovision': async (w) => {
    await expectForbidden(bus().request(Commands.deprovisionOrganisation, { tenantId: w.orgA, mode: 'delete' }, { tenantId: PLATFORM_TENANT, actor: userActor(w.eve, ['platform_admin']), timeoutMs: 15_000 }));
    await expectForbidden(bus().request(Commands.deprovisionOrganisation, { tenantId: w.orgA, mode: 'delete' }, { tenantId: w.orgB, actor: OPERATOR, timeoutMs: 15_000 }));
    const { rows } = await platform.sql.auth.query('SELECT suspended FROM organisations WHERE id = $1', [w.orgA]);
    expect(rows).toEqual([{ suspended: false }]);
    expect(await holdings(w.vicky)).toMatchObject({ claims: expect.any(Number) });
  },
  'auth auth.organisation.upsert': async (w) => {
    const takeover = { tenantId: w.orgA, displayName: 'Taken over', registration: 'open' as const, admins: [w.eve.email], suspended: true };
    await expectForbidden(bus().request(Commands.upsertOrganisation, takeover, { tenantId: PLATFORM_TENANT, actor: userActor(w.eve, ['platform_admin']), timeoutMs: 15_000 }));
    await expectForbidden(bus().request(Commands.upsertOrganisation, takeover, { tenantId: w.orgB, actor: OPERATOR, timeoutMs: 15_000 }));
    const { rows } = await platform.sql.auth.query('SELECT display_name, suspended FROM organisations WHERE id = $1', [w.orgA]);
    expect(rows).toEqual([{ display_name: 'Org victims', suspended: false }]);
    expect(await count(platform.sql.auth, 'SELECT count(*)::int AS n FROM invitations WHERE tenant_id = $1', [w.orgA])).toBe(0);
  },
  'auth auth.password_reset.requested': async (w) => {
    const tokens = () => count(platform.sql.auth, `SELECT count(*)::int AS n FROM user_tokens WHERE user_id = $1`, [w.vicky.id]);
    const before = await tokens();
    for (const actor of [userActor(w.eve), OPERATOR]) {
      const sent = await bus().publishEvent(Events.passwordResetRequested, { email: w.vicky.email }, { tenantId: w.orgA, actor });
      await expectParked('auth', sent.id, /Only auth itself may publish auth.password_reset.requested/);
    }
    expect(await tokens()).toBe(before);
  },
  'auth payment.succeeded': async (w) => {
    const payment = (member: Member) => liveEvents['payment.succeeded']!().data(member);
    const forged: Array<[Actor | undefined, string, RegExp]> = [
      [PAYMENTS, w.orgB, /not a member of that organisation/], // the user is not in the envelope's tenant
      [userActor(w.eve, ['veteran']), w.orgA, /only the payments service, or the paying user/], // someone else pays "for" them
      [userActor(w.unpaid, ['platform_admin']), w.orgA, /only the payments service, or the paying user/], // no permission to pay
      [{ kind: 'service', id: 'claims', roles: [] }, w.orgA, /only the payments service, or the paying user/],
      [undefined, w.orgA, /only the payments service, or the paying user/],
    ];
    for (const [actor, tenantId, error] of forged) {
      const sent = await bus().publishEvent(Events.paymentSucceeded, payment(w.unpaid), { tenantId, actor });
      await expectParked('auth', sent.id, error);
    }
    expect(await count(platform.sql.auth, 'SELECT count(*)::int AS n FROM subscriptions WHERE user_id = $1', [w.unpaid.id])).toBe(0);
    expect((await platform.call('auth', 'GET', '/api/v1/auth/me', { token: w.unpaid.token })).body.subscription).toEqual({ status: 'none' });
  },
  'auth user.data.erased': async (w) => {
    const job = await pendingJob(w.unpaid, 'deletion');
    const erased = (service: string) => ({ requestId: job, userId: w.unpaid.id, service, erased: { claims: 0 }, anonymised: {} });
    const wrongSender = await bus().publishEvent(Events.userDataErased, erased('claims'), { tenantId: w.orgA, actor: PAYMENTS });
    const byUser = await bus().publishEvent(Events.userDataErased, erased('claims'), { tenantId: w.orgA, actor: userActor(w.unpaid) });
    const otherTenant = await bus().publishEvent(Events.userDataErased, erased('claims'), { tenantId: w.orgB, actor: { kind: 'service', id: 'claims', roles: [] } });
    for (const message of [wrongSender, byUser, otherTenant]) await expectHandled('auth', message.id);
    expect(await jobOf(job)).toMatchObject({ status: 'pending', acks: {} });
    await platform.sql.auth.query('DELETE FROM gdpr_jobs WHERE id = $1', [job]);
  },
  'auth user.export.requested': async (w) => {
    const job = await pendingJob(w.vicky, 'export');
    const byAnother = await bus().publishEvent(Events.userExportRequested, { exportId: job, userId: w.vicky.id }, { tenantId: w.orgA, actor: userActor(w.mallory) });
    const byService = await bus().publishEvent(Events.userExportRequested, { exportId: job, userId: w.vicky.id }, { tenantId: w.orgA, actor: OPERATOR });
    const otherTenant = await bus().publishEvent(Events.userExportRequested, { exportId: job, userId: w.vicky.id }, { tenantId: w.orgB, actor: userActor(w.vicky) });
    for (const message of [byAnother, byService, otherTenant]) await expectHandled('auth', message.id);
    expect(await jobOf(job)).toMatchObject({ status: 'pending', archived: false });
  },
  'claims document.uploaded': async (w) => {
    const evidence = () => count(platform.sql.claims, 'SELECT count(*)::int AS n FROM claim_evidence WHERE claim_id = $1', [w.claimId]);
    const before = await evidence();
    const upload = (ownerId: string) => ({ documentId: randomUUID(), claimId: w.claimId, ownerId, filename: 'forged.pdf', contentType: 'application/pdf', sizeBytes: 1, sha256: 'x' });
    const otherTenant = await bus().publishEvent(Events.documentUploaded, upload(w.vicky.id), { tenantId: w.orgB, actor: userActor(w.vicky) });
    const notOwner = await bus().publishEvent(Events.documentUploaded, upload(w.vicky.id), { tenantId: w.orgA, actor: userActor(w.mallory) });
    const ownDocumentOtherClaim = await bus().publishEvent(Events.documentUploaded, upload(w.mallory.id), { tenantId: w.orgA, actor: userActor(w.mallory) });
    for (const message of [otherTenant, notOwner, ownDocumentOtherClaim]) await expectHandled('claims', message.id);
    for (const roles of [[], ['platform_admin']]) {
      const noPermission = await bus().publishEvent(Events.documentUploaded, upload(w.vicky.id), { tenantId: w.orgA, actor: userActor(w.vicky, roles) });
      await expectParked('claims', noPermission.id, /documents:upload/);
    }
    expect(await evidence()).toBe(before);
  },
  ...userDataCases('claims'),
  ...userDataCases('payments'),
  ...userDataCases('documents'),
  'realtime claim.created': realtimeCase('claim.created'),
  'realtime claim.evidence_added': realtimeCase('claim.evidence_added'),
  'realtime document.uploaded': realtimeCase('document.uploaded'),
  'realtime payment.succeeded': realtimeCase('payment.succeeded'),
};

/** `<service> <routing key>` of every binding of the services' queues on the exchange. */
async function bindings(): Promise<string[]> {
  const keys: string[] = [];
  for (const service of SERVICES) {
    const response = await management('GET', `/queues/${encodeURIComponent(platform.env.vhost.name)}/rf.${service}/bindings`);
    expect(response.status).toBe(200);
    for (const binding of (await response.json()) as Array<{ source: string; routing_key: string }>) {
      if (binding.source) keys.push(`${service} ${binding.routing_key}`);
    }
  }
  return keys.sort();
}

async function buildWorld(): Promise<World> {
  const orgA = await platform.organisation('victims');
  const orgB = await platform.organisation('attackers');
  const vicky = await platform.member(orgA, 'vicky');
  const claim = await platform.call('claims', 'POST', '/api/v1/claims', { token: vicky.token, body: { title: 'Claim of vicky', type: 'pension' } });
  const { payload, contentType } = await multipartBody([['claimId', claim.body.id], ['file', samplePdf(), 'record.pdf', 'application/pdf']]);
  const document = await platform.call('documents', 'POST', '/api/v1/documents', { token: vicky.token, raw: payload, headers: { 'content-type': contentType } });
  expect(document.status).toBe(201);
  await eventually('the evidence', async () => (await platform.call('claims', 'GET', `/api/v1/claims/${claim.body.id}`, { token: vicky.token })).body.evidence?.length === 1);
  const plans = await platform.call('payments', 'GET', '/api/v1/payments/plans');
  expect((await platform.call('payments', 'POST', '/api/v1/payments/checkout', { token: vicky.token, body: { planId: plans.body.items[0].id } })).status).toBe(201);
  // Connected after the fixtures, so every message it receives comes from the cases.
  const socket = await connectClient(`${platform.urls.realtime.replace(/^http/, 'ws')}/ws`, { headers: { authorization: `Bearer ${vicky.token}` } });
  return {
    orgA,
    orgB,
    vicky,
    mallory: await platform.member(orgA, 'mallory'),
    eve: await platform.member(orgB, 'eve'),
    unpaid: await platform.member(orgA, 'unpaid'),
    claimId: claim.body.id,
    documentId: document.body.id,
    socket,
  };
}

beforeAll(async () => {
  platform = await startInProcessPlatform('hostile_bus');
  parked = ParkedMessages.using(platform.env.broker);
  world = await buildWorld();
}, 120_000);

afterAll(async () => {
  await world?.socket.close();
  await parked?.close();
  await platform?.close();
});

describe('forged bus messages', () => {
  it('has a case for every routing key a service consumes, and none for keys no one consumes', async () => {
    const bound = await bindings();
    expect(bound.filter((key) => !(key in CASES))).toEqual([]);
    expect(Object.keys(CASES).filter((key) => !bound.includes(key))).toEqual([]);
  });

  it.each(Object.keys(CASES))('%s: refuses another tenant’s data and actors without the permission', async (key) => {
    await CASES[key]!(world);
  });

  it('parks, unhandled, a message whose tenant header differs from its envelope, in every service', async () => {
    const channel = await platform.env.broker.createConfirmChannel();
    try {
      const sent: Array<[ServiceName, string]> = [];
      for (const [service, contract, data] of [
        ['auth', Events.paymentSucceeded, liveEvents['payment.succeeded']!().data(world.vicky)],
        ['claims', Events.userDeletionRequested, { requestId: randomUUID(), userId: world.vicky.id }],
        ['payments', Events.userDeletionRequested, { requestId: randomUUID(), userId: world.vicky.id }],
        ['documents', Events.userDeletionRequested, { requestId: randomUUID(), userId: world.vicky.id }],
        ['realtime', Events.claimCreated, liveEvents['claim.created']!().data(world.vicky)],
      ] as const) {
        const message = toOutgoingMessage(createEnvelope(contract, data as never, { tenantId: world.orgB, actor: service === 'auth' || service === 'realtime' ? PAYMENTS : AUTH }));
        // Sent straight to the service's queue, with the header claiming the victim's tenant.
        channel.sendToQueue(`rf.${service}`, message.content, { ...message.options, headers: { ...message.options.headers, [BusHeaders.tenantId]: world.orgA } });
        sent.push([service, message.options.messageId]);
      }
      await channel.waitForConfirms();
      for (const [service, id] of sent) await expectParked(service, id, /x-rf-tenant-id/);
      for (const service of ['auth', 'claims', 'payments', 'documents'] as const) {
        const ids = sent.filter(([s]) => s === service).map(([, id]) => id);
        expect(await count(platform.sql[service], 'SELECT count(*)::int AS n FROM bus_inbox WHERE message_id = ANY($1)', [ids])).toBe(0);
      }
      expect(await holdings(world.vicky)).toMatchObject({ claims: 1, documents: 1, payments: 1 });
    } finally {
      await channel.close().catch(() => undefined);
    }
  });
});
