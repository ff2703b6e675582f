/**
 * Hostile user, part 3: another organisation's and another veteran's identifiers. Every documented operation of every
 * service (read from the OpenAPI documents) is tried by attackers — a veteran, a representative and an admin of
 * another organisation, and a veteran of the victim's own organisation — with the victim's ids in the path, the
 * query and the body, and with tokens carrying another organisation's tenant. Each attempt must be refused (403/404,
 * or the endpoint's own "invalid token" answer), or act on the attacker's own data only, and never leak the victim's
 * data; a refusal must read exactly like the answer for an id that does not exist. The test fails when a documented
 * operation has no case in PROBES, and when a case names an operation that no longer exists.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { decodeJwt } from 'jose';
import { multipartBody } from '@rallyforge/documents/test/documents-harness';
import { samplePdf } from '@rallyforge/documents/test/fixtures';
import { connectClient, type LiveClient } from '@rallyforge/realtime/test/ws-client';
import { eventually, startInProcessPlatform, type ApiResponse, type InProcessPlatform, type Json, type Member } from '../../test/in-process-platform';
import { fillPath, loadApiOperations, stale, uncovered, type ApiOperation } from './api-catalogue';

/** The victim's organisation and data, and the attackers. */
interface World {
  orgA: string;
  orgB: string;
  /** The victim: a veteran of orgA with a claim, evidence, a payment, an export, a session. */
  vicky: Member;
  /** A veteran of the same organisation as the victim. */
  mallory: Member;
  repA: Member;
  adminA: Member;
  /** A veteran, a representative and an admin of another organisation. */
  eve: Member;
  repB: Member;
  adminB: Member;
  claimId: string;
  claimTitle: string;
  documentId: string;
  filename: string;
  paymentId: string;
  exportId: string;
  sessionId: string;
  invitationId: string;
  invitee: string;
}

/** What an attempt must end in. */
type Expectation =
  /** Refused with one of `statuses`, in the same body as `control` (the same request for an id that does not exist). */
  | { refused: readonly number[]; control: Omit<Attempt, 'label' | 'expect' | 'as'> }
  /** Refused as invalid input (400 VALIDATION_FAILED): an identifier the operation does not take. */
  | { rejected: true }
  /** Served, for the attacker's own data only; `check` looks at what happened. */
  | { own: true; check?: (response: ApiResponse) => void | Promise<void> };

interface Attempt {
  label: string;
  as?: Member;
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  raw?: Buffer;
  headers?: Record<string, string>;
  expect: Expectation;
}

type Probe = (world: World, op: ApiOperation) => Attempt[] | Promise<Attempt[]>;

const NOT_FOUND = [404] as const;

/** The victim's id in the path, against a random id of the same kind in the control. */
function pathAttempt(label: string, as: Member, path: string, ids: Record<string, string>, statuses: readonly number[] = NOT_FOUND, body?: unknown): Attempt {
  const random = Object.fromEntries(Object.keys(ids).map((name) => [name, randomUUID()]));
  return { label, as, path: fillPath(path, ids), body, expect: { refused: statuses, control: { path: fillPath(path, random), body } } };
}

/** An opaque `<kind>.<tenant>.<secret>` token of another organisation, against one of a made-up organisation. */
function tenantToken(kind: string, tenantId: string): string {
  return `${kind}.${tenantId}.${randomBytes(32).toString('base64url')}`;
}

function tokenAttempt(label: string, path: string, body: (token: string) => Record<string, unknown>, kind: string, w: World, statuses: readonly number[]): Attempt {
  return {
    label,
    path,
    body: body(tenantToken(kind, w.orgA)),
    expect: { refused: statuses, control: { path, body: body(tenantToken(kind, `ghost-${randomBytes(3).toString('hex')}`)) } },
  };
}

const smuggled = (w: World) => ({ userId: w.vicky.id, tenantId: w.orgA });

/**
 * One entry per documented operation. Attackers: eve (veteran of orgB), repB and adminB (staff of orgB), mallory
 * (veteran of orgA, the victim's organisation). Paths use the document's template; `op.path` is the template.
 */
const PROBES: Record<string, Probe> = {
  // ---- auth: credentials and e-mailed tokens (public)
  'POST /api/v1/auth/register': (w) => [
    { label: 'register into orgA as an admin', path: '/api/v1/auth/register', body: { organisation: w.orgA, email: `e-${randomUUID()}@example.org`, password: w.eve.password, role: 'org_admin' }, expect: { rejected: true } },
    { label: 'register with a tenant id', path: '/api/v1/auth/register', body: { organisation: w.orgB, email: `e-${randomUUID()}@example.org`, password: w.eve.password, tenantId: w.orgA }, expect: { rejected: true } },
  ],
  'POST /api/v1/auth/login': (w) => [
    {
      label: "eve's credentials against orgA",
      path: '/api/v1/auth/login',
      body: { organisation: w.orgA, email: w.eve.email, password: w.eve.password },
      expect: { refused: [401], control: { path: '/api/v1/auth/login', body: { organisation: `ghost-${randomBytes(3).toString('hex')}`, email: w.eve.email, password: w.eve.password } } },
    },
    {
      label: "the victim's e-mail with a guessed password",
      path: '/api/v1/auth/login',
      body: { organisation: w.orgA, email: w.vicky.email, password: 'Guessed-Password-1' },
      expect: { refused: [401], control: { path: '/api/v1/auth/login', body: { organisation: w.orgA, email: `nobody-${randomUUID()}@example.org`, password: 'Guessed-Password-1' } } },
    },
  ],
  'POST /api/v1/auth/login/mfa': (w) => [
    tokenAttempt('an mfaToken of orgA', '/api/v1/auth/login/mfa', (mfaToken) => ({ mfaToken, code: '123456' }), 'mfa1', w, [401]),
  ],
  'POST /api/v1/auth/refresh': (w) => {
    const [prefix, , secret] = w.eve.refreshToken.split('.');
    return [
      {
        label: "eve's refresh token moved to orgA",
        path: '/api/v1/auth/refresh',
        body: { refreshToken: `${prefix}.${w.orgA}.${secret}` },
        expect: { refused: [401], control: { path: '/api/v1/auth/refresh', body: { refreshToken: tenantToken('rt1', w.orgA) } } },
      },
    ];
  },
  'POST /api/v1/auth/logout': (w) => [
    {
      label: 'a refresh token of orgA',
      path: '/api/v1/auth/logout',
      body: { refreshToken: tenantToken('rt1', w.orgA) },
      expect: {
        own: true,
        check: async (response) => {
          expect(response.status).toBe(204);
          const sessions = await call('auth', 'GET', '/api/v1/auth/me/sessions', { token: w.vicky.token });
          expect(sessions.body.items.map((s: { id: string }) => s.id)).toContain(w.sessionId);
        },
      },
    },
  ],
  'POST /api/v1/auth/verify-email': (w) => [tokenAttempt('a verification token of orgA', '/api/v1/auth/verify-email', (token) => ({ token }), 'ev1', w, [400])],
  'POST /api/v1/auth/verify-email/resend': (w) => [
    { label: "the victim's e-mail in the body", as: w.eve, path: '/api/v1/auth/verify-email/resend', body: { email: w.vicky.email, ...smuggled(w) }, expect: { own: true } },
  ],
  'POST /api/v1/auth/password-reset/request': (w) => [
    {
      label: "the victim's account (answers as for an unknown one)",
      path: '/api/v1/auth/password-reset/request',
      body: { organisation: w.orgA, email: w.vicky.email },
      expect: { refused: [202], control: { path: '/api/v1/auth/password-reset/request', body: { organisation: w.orgA, email: `nobody-${randomUUID()}@example.org` } } },
    },
  ],
  'POST /api/v1/auth/password-reset': (w) => [
    tokenAttempt('a reset token of orgA', '/api/v1/auth/password-reset', (token) => ({ token, password: 'Brand-New-Pass-1' }), 'pr1', w, [400]),
  ],
  'POST /api/v1/auth/invitations/accept': (w) => [
    tokenAttempt('an invitation token of orgA', '/api/v1/auth/invitations/accept', (token) => ({ token, password: 'Brand-New-Pass-1', displayName: 'Eve' }), 'iv1', w, [400]),
  ],
  'GET /api/v1/auth/.well-known/jwks.json': () => [
    { label: 'the key set names no tenant', path: '/api/v1/auth/.well-known/jwks.json', query: { tenantId: 'x' }, expect: { own: true } },
  ],

  // ---- auth: the caller's own account
  'GET /api/v1/auth/me': (w) => [
    {
      label: "the victim's ids in the query",
      as: w.eve,
      path: '/api/v1/auth/me',
      query: { userId: w.vicky.id, tenantId: w.orgA, organisation: w.orgA },
      expect: { own: true, check: (r) => expect(r.body).toMatchObject({ id: w.eve.id, organisation: { id: w.orgB } }) },
    },
  ],
  'DELETE /api/v1/auth/me': (w) => [
    { label: "the victim's id in the body", as: w.eve, path: '/api/v1/auth/me', body: { password: w.eve.password, userId: w.vicky.id }, expect: { rejected: true } },
  ],
  'POST /api/v1/auth/me/export': (w) => [
    {
      label: "the victim's id in the body",
      as: w.eve,
      path: '/api/v1/auth/me/export',
      body: smuggled(w),
      expect: {
        own: true,
        check: async (r) => {
          expect(r.status).toBe(202);
          const { rows } = await w$.platform.sql.auth.query('SELECT user_id, tenant_id FROM gdpr_jobs WHERE id = $1', [r.body.id]);
          expect(rows).toEqual([{ user_id: w.eve.id, tenant_id: w.orgB }]);
        },
      },
    },
  ],
  'GET /api/v1/auth/me/export/{id}': (w, op) => [
    pathAttempt("another organisation's veteran", w.eve, op.path, { id: w.exportId }),
    pathAttempt('a veteran of the same organisation', w.mallory, op.path, { id: w.exportId }),
    pathAttempt('an admin of the same organisation', w.adminA, op.path, { id: w.exportId }),
  ],
  'GET /api/v1/auth/me/export/{id}/archive': (w, op) => [
    pathAttempt("another organisation's veteran", w.eve, op.path, { id: w.exportId }),
    pathAttempt('a veteran of the same organisation', w.mallory, op.path, { id: w.exportId }),
  ],
  'GET /api/v1/auth/me/2fa': (w) => [{ label: "the victim's id in the query", as: w.eve, path: '/api/v1/auth/me/2fa', query: smuggled(w), expect: { own: true } }],
  'POST /api/v1/auth/me/2fa/enrol': (w) => [{ label: "the victim's id in the body", as: w.eve, path: '/api/v1/auth/me/2fa/enrol', body: smuggled(w), expect: { own: true } }],
  'POST /api/v1/auth/me/2fa/confirm': (w) => [{ label: "the victim's id in the body", as: w.eve, path: '/api/v1/auth/me/2fa/confirm', body: { code: '123456', ...smuggled(w) }, expect: { rejected: true } }],
  'POST /api/v1/auth/me/2fa/disable': (w) => [
    { label: "the victim's id in the body", as: w.eve, path: '/api/v1/auth/me/2fa/disable', body: { password: w.eve.password, code: '123456', ...smuggled(w) }, expect: { rejected: true } },
  ],
  'POST /api/v1/auth/me/2fa/recovery-codes': (w) => [
    { label: "the victim's id in the body", as: w.eve, path: '/api/v1/auth/me/2fa/recovery-codes', body: { code: '123456', ...smuggled(w) }, expect: { rejected: true } },
  ],
  'GET /api/v1/auth/me/sessions': (w) => [
    { label: "the victim's id in the query", as: w.eve, path: '/api/v1/auth/me/sessions', query: smuggled(w), expect: { own: true } },
    { label: 'a veteran of the same organisation', as: w.mallory, path: '/api/v1/auth/me/sessions', query: smuggled(w), expect: { own: true } },
  ],
  'DELETE /api/v1/auth/me/sessions': (w) => [
    {
      label: "the victim's id in the body (revokes the attacker's own sessions only)",
      as: w$.throwaway,
      path: '/api/v1/auth/me/sessions',
      body: smuggled(w),
      expect: {
        own: true,
        check: async () => {
          const sessions = await call('auth', 'GET', '/api/v1/auth/me/sessions', { token: w.vicky.token });
          expect(sessions.body.items.map((s: { id: string }) => s.id)).toContain(w.sessionId);
        },
      },
    },
  ],
  'DELETE /api/v1/auth/me/sessions/{id}': (w, op) => [
    pathAttempt("another organisation's veteran", w.eve, op.path, { id: w.sessionId }),
    pathAttempt('a veteran of the same organisation', w.mallory, op.path, { id: w.sessionId }),
    pathAttempt('an admin of the same organisation', w.adminA, op.path, { id: w.sessionId }),
  ],
  'GET /api/v1/auth/me/logins': (w) => [{ label: "the victim's id in the query", as: w.eve, path: '/api/v1/auth/me/logins', query: smuggled(w), expect: { rejected: true } }],

  // ---- auth: invitations and audit (org_admin)
  'POST /api/v1/auth/invitations': (w) => [
    { label: 'into orgA by naming it', as: w.adminB, path: '/api/v1/auth/invitations', body: { email: `x-${randomUUID()}@example.org`, role: 'veteran', organisation: w.orgA }, expect: { rejected: true } },
    { label: 'into orgA by tenant id', as: w.adminB, path: '/api/v1/auth/invitations', body: { email: `x-${randomUUID()}@example.org`, role: 'veteran', tenantId: w.orgA }, expect: { rejected: true } },
    { label: 'as a platform admin', as: w.adminB, path: '/api/v1/auth/invitations', body: { email: `x-${randomUUID()}@example.org`, role: 'platform_admin' }, expect: { rejected: true } },
    {
      label: 'by a veteran',
      as: w.mallory,
      path: '/api/v1/auth/invitations',
      body: { email: `x-${randomUUID()}@example.org`, role: 'org_admin' },
      expect: { refused: [403], control: { path: '/api/v1/auth/invitations', body: { email: `y-${randomUUID()}@example.org`, role: 'veteran' } } },
    },
  ],
  'GET /api/v1/auth/invitations': (w) => [
    { label: "orgA's invitations by naming it", as: w.adminB, path: '/api/v1/auth/invitations', query: { organisation: w.orgA, tenantId: w.orgA }, expect: { own: true } },
    { label: 'by a veteran of orgA', as: w.mallory, path: '/api/v1/auth/invitations', expect: { refused: [403], control: { path: '/api/v1/auth/invitations' } } },
  ],
  'DELETE /api/v1/auth/invitations/{id}': (w, op) => [
    pathAttempt("another organisation's admin", w.adminB, op.path, { id: w.invitationId }),
    pathAttempt('a veteran of the same organisation', w.mallory, op.path, { id: w.invitationId }, [403]),
  ],
  'GET /api/v1/auth/audit': (w): Attempt[] => [
    { label: "the victim's entries by actor", as: w.adminB, path: '/api/v1/auth/audit', query: { actor: w.vicky.id }, expect: { own: true, check: (r) => expect(r.body.items).toEqual([]) } },
    { label: 'with a tenant id', as: w.adminB, path: '/api/v1/auth/audit', query: { tenantId: w.orgA }, expect: { rejected: true } },
    { label: 'by a veteran of orgA', as: w.mallory, path: '/api/v1/auth/audit', expect: { refused: [403], control: { path: '/api/v1/auth/audit' } } },
  ],

  // ---- claims
  'POST /api/v1/claims': (w) => [
    { label: 'for the victim', as: w.eve, path: '/api/v1/claims', body: { title: 'Forged claim', type: 'pension', ownerId: w.vicky.id }, expect: { rejected: true } },
    { label: 'into orgA', as: w.eve, path: '/api/v1/claims', body: { title: 'Forged claim', type: 'pension', tenantId: w.orgA }, expect: { rejected: true } },
  ],
  'GET /api/v1/claims': (w) => [
    { label: "the victim's id in the query", as: w.eve, path: '/api/v1/claims', query: { ownerId: w.vicky.id }, expect: { rejected: true } },
    { label: "another organisation's veteran", as: w.eve, path: '/api/v1/claims', expect: { own: true } },
    { label: "another organisation's representative", as: w.repB, path: '/api/v1/claims', expect: { own: true } },
    { label: 'a veteran of the same organisation', as: w.mallory, path: '/api/v1/claims', expect: { own: true } },
  ],
  'GET /api/v1/claims/{id}': (w, op) => [
    pathAttempt("another organisation's veteran", w.eve, op.path, { id: w.claimId }),
    pathAttempt("another organisation's representative", w.repB, op.path, { id: w.claimId }),
    pathAttempt("another organisation's admin", w.adminB, op.path, { id: w.claimId }),
    pathAttempt('a veteran of the same organisation', w.mallory, op.path, { id: w.claimId }),
  ],
  'PATCH /api/v1/claims/{id}/status': (w, op) => [
    pathAttempt("another organisation's representative", w.repB, op.path, { id: w.claimId }, NOT_FOUND, { status: 'closed' }),
    pathAttempt("another organisation's admin", w.adminB, op.path, { id: w.claimId }, NOT_FOUND, { status: 'closed' }),
    pathAttempt('a veteran of the same organisation', w.mallory, op.path, { id: w.claimId }, [403], { status: 'closed' }),
    pathAttempt('the victim herself (a veteran)', w.vicky, op.path, { id: w.claimId }, [403], { status: 'decided' }),
  ],

  // ---- payments
  'GET /api/v1/payments/plans': () => [{ label: 'the price list names no tenant', path: '/api/v1/payments/plans', query: { tenantId: 'x' }, expect: { own: true } }],
  'POST /api/v1/payments/checkout': (w) => [
    { label: 'for the victim', as: w.eve, path: '/api/v1/payments/checkout', body: { planId: w$.planId, userId: w.vicky.id }, expect: { rejected: true } },
    { label: 'into orgA', as: w.eve, path: '/api/v1/payments/checkout', body: { planId: w$.planId, tenantId: w.orgA }, expect: { rejected: true } },
  ],
  'GET /api/v1/payments': (w) => [
    { label: "the victim's id in the query", as: w.eve, path: '/api/v1/payments', query: { userId: w.vicky.id }, expect: { rejected: true } },
    { label: "another organisation's admin", as: w.adminB, path: '/api/v1/payments', expect: { own: true } },
    { label: 'a veteran of the same organisation', as: w.mallory, path: '/api/v1/payments', expect: { own: true } },
  ],
  'GET /api/v1/payments/{id}': (w, op) => [
    pathAttempt("another organisation's veteran", w.eve, op.path, { id: w.paymentId }),
    pathAttempt("another organisation's admin", w.adminB, op.path, { id: w.paymentId }),
    pathAttempt('a veteran of the same organisation', w.mallory, op.path, { id: w.paymentId }),
  ],

  // ---- documents
  'POST /api/v1/documents': async (w) => {
    const upload = async (claimId: string, extra: Array<[string, string]> = []) => {
      const { payload, contentType } = await multipartBody([['claimId', claimId], ...extra, ['file', samplePdf(), 'forged.pdf', 'application/pdf']]);
      return { raw: payload, headers: { 'content-type': contentType } };
    };
    // By design the upload cannot check a claim of another service synchronously (documents/README.md): it stores
    // the file for the uploader and claims refuses to attach it. What must hold: nothing of the victim's changes
    // or leaks, and the victim's claim never gets the evidence.
    const evidenceUnchanged = async () => {
      await eventually('claims to handle the upload', async () => {
        const { rows } = await w$.platform.sql.claims.query(`SELECT count(*)::int AS n FROM bus_inbox WHERE type = 'document.uploaded'`);
        return rows[0].n > w$.uploadsHandled && (w$.uploadsHandled = rows[0].n);
      });
      const { rows } = await w$.platform.sql.claims.query('SELECT document_id FROM claim_evidence WHERE claim_id = $1', [w.claimId]);
      expect(rows.map((row) => row.document_id)).toEqual([w.documentId]);
    };
    return [
      { label: "onto the victim's claim, from another organisation", as: w.eve, path: '/api/v1/documents', ...(await upload(w.claimId)), expect: { own: true, check: evidenceUnchanged } },
      { label: "onto the victim's claim, from the same organisation", as: w.mallory, path: '/api/v1/documents', ...(await upload(w.claimId)), expect: { own: true, check: evidenceUnchanged } },
      { label: 'with an owner field', as: w.eve, path: '/api/v1/documents', ...(await upload(w$.eveClaimId, [['ownerId', w.vicky.id]])), expect: { rejected: true } },
    ];
  },
  'GET /api/v1/documents/{id}': (w, op) => [
    pathAttempt("another organisation's veteran", w.eve, op.path, { id: w.documentId }),
    pathAttempt("another organisation's representative", w.repB, op.path, { id: w.documentId }),
    pathAttempt('a veteran of the same organisation', w.mallory, op.path, { id: w.documentId }),
  ],
  'GET /api/v1/documents/{id}/content': (w, op) => [
    pathAttempt("another organisation's veteran", w.eve, op.path, { id: w.documentId }),
    pathAttempt("another organisation's admin", w.adminB, op.path, { id: w.documentId }),
    pathAttempt('a veteran of the same organisation', w.mallory, op.path, { id: w.documentId }),
  ],
};

let platform: InProcessPlatform;
let operations: ApiOperation[];
let world: World;
/** Shared state the probes need besides the world. */
const w$ = {} as { platform: InProcessPlatform; throwaway: Member; planId: string; eveClaimId: string; uploadsHandled: number };

const call = (...args: Parameters<InProcessPlatform['call']>) => platform.call(...args);

async function upload(member: Member, claimId: string, filename: string): Promise<string> {
  const { payload, contentType } = await multipartBody([['claimId', claimId], ['file', samplePdf(), filename, 'application/pdf']]);
  const response = await call('documents', 'POST', '/api/v1/documents', { token: member.token, raw: payload, headers: { 'content-type': contentType } });
  expect(response.status).toBe(201);
  return response.body.id;
}

async function buildWorld(): Promise<World> {
  const orgA = await platform.organisation('victims');
  const orgB = await platform.organisation('attackers');
  const vicky = await platform.member(orgA, 'vicky');
  const [mallory, repA, adminA, eve, repB, adminB] = [
    await platform.member(orgA, 'mallory'),
    await platform.member(orgA, 'rep-a', 'representative'),
    await platform.member(orgA, 'admin-a', 'org_admin'),
    await platform.member(orgB, 'eve'),
    await platform.member(orgB, 'rep-b', 'representative'),
    await platform.member(orgB, 'admin-b', 'org_admin'),
  ];
  w$.throwaway = await platform.member(orgB, 'throwaway');

  const claimTitle = `Tinnitus of vicky ${randomUUID()}`;
  const claim = await call('claims', 'POST', '/api/v1/claims', { token: vicky.token, body: { title: claimTitle, type: 'disability_compensation' } });
  expect(claim.status).toBe(201);
  const filename = `vicky-dd214-${randomUUID()}.pdf`;
  const documentId = await upload(vicky, claim.body.id, filename);
  await eventually('the evidence on the claim', async () => (await call('claims', 'GET', `/api/v1/claims/${claim.body.id}`, { token: vicky.token })).body.evidence?.length === 1);
  // A download (audited), a status change by staff: the victim's organisation has an audit trail to protect.
  expect((await call('documents', 'GET', `/api/v1/documents/${documentId}/content`, { token: vicky.token })).status).toBe(200);
  expect((await call('claims', 'PATCH', `/api/v1/claims/${claim.body.id}/status`, { token: repA.token, body: { status: 'in_review' } })).status).toBe(200);

  const plans = await call('payments', 'GET', '/api/v1/payments/plans');
  w$.planId = plans.body.items[0].id;
  const payment = await call('payments', 'POST', '/api/v1/payments/checkout', { token: vicky.token, body: { planId: w$.planId } });
  expect(payment.status).toBe(201);
  const exported = await call('auth', 'POST', '/api/v1/auth/me/export', { token: vicky.token });
  expect(exported.status).toBe(202);
  const invitee = `invitee-${randomUUID()}@example.org`;
  const invitation = await call('auth', 'POST', '/api/v1/auth/invitations', { token: adminA.token, body: { email: invitee, role: 'representative' } });
  expect(invitation.status).toBe(201);

  const eveClaim = await call('claims', 'POST', '/api/v1/claims', { token: eve.token, body: { title: 'Claim of eve', type: 'pension' } });
  w$.eveClaimId = eveClaim.body.id;
  const { rows } = await platform.sql.claims.query(`SELECT count(*)::int AS n FROM bus_inbox WHERE type = 'document.uploaded'`);
  w$.uploadsHandled = rows[0].n;

  return {
    orgA,
    orgB,
    vicky,
    mallory,
    repA,
    adminA,
    eve,
    repB,
    adminB,
    claimId: claim.body.id,
    claimTitle,
    documentId,
    filename,
    paymentId: payment.body.id,
    exportId: exported.body.id,
    sessionId: decodeJwt(vicky.token).sid as string,
    invitationId: invitation.body.id,
    invitee,
  };
}

beforeAll(async () => {
  platform = await startInProcessPlatform('hostile_isolation');
  w$.platform = platform;
  operations = await loadApiOperations(platform);
  world = await buildWorld();
}, 120_000);

afterAll(async () => {
  await platform?.close();
});

/** What must never appear in an attacker's answer (unless the attacker sent it in the request). */
function secretsOf(w: World): Record<string, string> {
  return {
    'victim e-mail': w.vicky.email,
    'victim id': w.vicky.id,
    'claim title': w.claimTitle,
    'claim id': w.claimId,
    'document id': w.documentId,
    'document name': w.filename,
    'payment id': w.paymentId,
    'export id': w.exportId,
    'session id': w.sessionId,
    'invitation id': w.invitationId,
    invitee: w.invitee,
    'victim org': w.orgA,
  };
}

function send(op: ApiOperation, attempt: Omit<Attempt, 'label' | 'expect'>): Promise<ApiResponse> {
  const query = attempt.query ? `?${new URLSearchParams(attempt.query)}` : '';
  return call(op.service, op.method, `${attempt.path}${query}`, {
    token: attempt.as?.token,
    body: attempt.body,
    raw: attempt.raw,
    headers: attempt.headers,
  });
}

/** The body without what differs between two requests by design: the request id, and ids the caller sent. */
function comparable(response: ApiResponse, sent: string): unknown {
  const ids = new Set(sent.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi) ?? []);
  let text = response.text;
  for (const id of ids) text = text.split(id).join('<id>');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  if (body && typeof body === 'object' && 'requestId' in body) (body as Json).requestId = '<request>';
  return { status: response.status, body };
}

async function run(op: ApiOperation, attempt: Attempt): Promise<void> {
  const where = `${op.key} — ${attempt.label}`;
  const response = await send(op, attempt);
  const sent = JSON.stringify([attempt.path, attempt.query, attempt.body, attempt.raw?.toString('latin1')]);
  expect({ where, status: response.status < 500 }).toEqual({ where, status: true });

  const leaked = Object.entries(secretsOf(world))
    .filter(([, secret]) => !sent.includes(secret) && response.text.includes(secret))
    .map(([name]) => name);
  expect({ where, leaked }).toEqual({ where, leaked: [] });

  const expectation = attempt.expect;
  if ('refused' in expectation) {
    const allowed = expectation.refused.includes(response.status);
    expect({ where, status: response.status }).toEqual({ where, status: allowed ? response.status : `one of ${expectation.refused.join(', ')}` });
    const control = await send(op, { ...expectation.control, as: attempt.as });
    const controlSent = JSON.stringify([expectation.control.path, expectation.control.body]);
    expect({ where, answer: comparable(response, sent) }).toEqual({ where, answer: comparable(control, controlSent) });
  } else if ('rejected' in expectation) {
    expect({ where, status: response.status, code: response.body?.code }).toEqual({ where, status: 400, code: 'VALIDATION_FAILED' });
  } else {
    const served = response.status >= 200 && response.status < 300;
    expect({ where, status: response.status }).toEqual({ where, status: served ? response.status : 'a 2xx' });
    await expectation.check?.(response);
  }
}

describe('another organisation’s and another veteran’s identifiers', () => {
  it('has a case for every documented operation of every service, and none for operations that are gone', () => {
    expect(uncovered(operations, PROBES)).toEqual([]);
    expect(stale(operations, PROBES)).toEqual([]);
  });

  it('refuses, or serves only the attacker’s own data, on every documented operation — and leaks nothing', async () => {
    let attempts = 0;
    for (const op of operations) {
      for (const attempt of await PROBES[op.key]!(world, op)) {
        await run(op, attempt);
        attempts++;
      }
    }
    expect(attempts).toBeGreaterThanOrEqual(operations.length);
  });

  it('still serves the victim everything, so the refusals above were not an outage', async () => {
    const claim = await call('claims', 'GET', `/api/v1/claims/${world.claimId}`, { token: world.vicky.token });
    expect(claim.body).toMatchObject({ id: world.claimId, title: world.claimTitle, evidence: [expect.objectContaining({ documentId: world.documentId })] });
    expect((await call('documents', 'GET', `/api/v1/documents/${world.documentId}`, { token: world.vicky.token })).body.filename).toBe(world.filename);
    expect((await call('payments', 'GET', `/api/v1/payments/${world.paymentId}`, { token: world.vicky.token })).status).toBe(200);
    expect((await call('auth', 'GET', `/api/v1/auth/me/export/${world.exportId}`, { token: world.vicky.token })).status).toBe(200);
    // Staff of the victim's own organisation see the claim (the refusals are about the tenant, not the endpoint).
    expect((await call('claims', 'GET', `/api/v1/claims/${world.claimId}`, { token: world.repA.token })).status).toBe(200);
    const invitations = await call('auth', 'GET', '/api/v1/auth/invitations', { token: world.adminA.token });
    expect(invitations.body.map((invitation: { id: string }) => invitation.id)).toContain(world.invitationId);
  });
});

describe('live updates', () => {
  it('delivers an event to its owner only: not to another organisation, not to a neighbour', async () => {
    const ws = `${platform.urls.realtime.replace(/^http/, 'ws')}/ws`;
    const clients: LiveClient[] = [];
    try {
      for (const member of [world.vicky, world.mallory, world.eve, world.adminB]) {
        clients.push(await connectClient(ws, { headers: { authorization: `Bearer ${member.token}` } }));
      }
      const [victim, ...others] = clients;
      const created = await call('claims', 'POST', '/api/v1/claims', { token: world.vicky.token, body: { title: `Live ${randomUUID()}`, type: 'education' } });
      await eventually('claim.created on the victim’s socket', async () => victim!.messages.some((m) => (m.data as Json)?.claimId === created.body.id));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(others.map((client) => client.messages)).toEqual([[], [], []]);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  });
});

describe('Redis keys', () => {
  it('puts every key that names an organisation under that organisation’s t:<id>: prefix', async () => {
    const redis = new Redis(process.env.RF_TEST_REDIS_URL!);
    try {
      for (const org of [world.orgA, world.orgB]) {
        const keys: string[] = [];
        let cursor = '0';
        do {
          const [next, batch] = await redis.scan(cursor, 'MATCH', `*${org}*`, 'COUNT', 1000);
          cursor = next;
          keys.push(...batch);
        } while (cursor !== '0');
        expect(keys.length).toBeGreaterThan(0);
        expect(keys.filter((key) => !key.startsWith(`t:${org}:`))).toEqual([]);
      }
    } finally {
      redis.disconnect();
    }
  });
});
