/**
 * Hostile user, part 5: input. Every documented operation (from the OpenAPI documents) gets malformed JSON, other
 * content types, bodies of the wrong shape and type, unknown fields, poisoned prototypes, oversized and deeply nested
 * bodies, injection-shaped strings (SQL, NoSQL operators, path traversal, header injection, very long strings, unicode
 * edge cases) in every string field, hostile path and query parameters and headers, and uploads with hostile names
 * and contents. Malformed input must get a 4xx; nothing may get a 5xx; accepted strings are stored as sent; every
 * service is still ready afterwards.
 */
import { connect } from 'node:net';
import { multipartBody } from '@rallyforge/documents/test/documents-harness';
import { samplePdf } from '@rallyforge/documents/test/fixtures';
import { SERVICES, startInProcessPlatform, type ApiResponse, type InProcessPlatform, type Member, type ServiceName } from '../../test/in-process-platform';
import { fillPath, jsonBodySchema, loadApiOperations, queryParameters, resolveSchema, stale, type ApiOperation } from './api-catalogue';
import {
  deeplyNested,
  HOSTILE_PATH_VALUES,
  HOSTILE_QUERIES,
  HOSTILE_STRINGS,
  MALFORMED_BODIES,
  PROTOTYPE_POLLUTION,
  takesJson,
  VALID_BODIES,
  WRONG_TYPE_JSON,
} from './hostile-values';

const UPLOAD_MAX_BYTES = 64 * 1024;
const BODY_LIMIT_BYTES = 1024 * 1024;

let platform: InProcessPlatform;
let operations: ApiOperation[];
let planId: string;
/** Who calls each operation: the least privileged member it does not refuse for lack of a role. */
const callers = new Map<string, Member>();
let veteran: Member;
let claimId: string;

beforeAll(async () => {
  platform = await startInProcessPlatform('hostile_input', { services: { UPLOAD_MAX_BYTES: String(UPLOAD_MAX_BYTES) } });
  operations = await loadApiOperations(platform);
  const org = await platform.organisation('input');
  veteran = await platform.member(org, 'veteran');
  const staff = [veteran, await platform.member(org, 'representative', 'representative'), await platform.member(org, 'admin', 'org_admin')];
  planId = (await platform.call('payments', 'GET', '/api/v1/payments/plans')).body.items[0].id;
  claimId = (await platform.call('claims', 'POST', '/api/v1/claims', { token: veteran.token, body: { title: 'Claim for uploads', type: 'pension' } })).body.id;
  for (const op of operations) {
    for (const member of staff) {
      const probe = await platform.call(op.service, op.method, fillPath(op.path), { token: member.token, ...(takesJson(op) ? { body: {} } : {}) });
      callers.set(op.key, member);
      if (probe.status !== 403 || probe.body?.code !== 'FORBIDDEN') break;
    }
  }
}, 120_000);

afterAll(async () => {
  await platform?.close();
});

const jsonOperations = () => operations.filter(takesJson);
const validBody = (op: ApiOperation) => VALID_BODIES[op.key]!({ member: callers.get(op.key)!, planId });

function send(op: ApiOperation, request: { path?: string; raw?: string | Buffer; contentType?: string; headers?: Record<string, string> }): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...request.headers };
  if (request.contentType) headers['content-type'] = request.contentType;
  return platform.call(op.service, op.method, request.path ?? fillPath(op.path), { token: callers.get(op.key)!.token, raw: request.raw, headers });
}

/** Fails naming the operation and the case when the status is not in [min, max]. */
function expectStatus(response: ApiResponse, where: string, min: number, max: number): void {
  const ok = response.status >= min && response.status <= max;
  expect({ where, status: response.status, body: ok ? 'ok' : response.text.slice(0, 300) }).toEqual({ where, status: ok ? response.status : `${min}-${max}`, body: 'ok' });
}
const expect4xx = (response: ApiResponse, where: string) => expectStatus(response, where, 400, 499);
const expectNo5xx = (response: ApiResponse, where: string) => expectStatus(response, where, 200, 499);

/** The body with `property` replaced by the raw JSON text `valueJson`. */
function withRawValue(body: Record<string, unknown>, property: string, valueJson: string): string {
  const others = JSON.stringify({ ...body, [property]: undefined }).slice(1, -1);
  return `{${others ? `${others},` : ''}${JSON.stringify(property)}:${valueJson}}`;
}

const stringProperties = (op: ApiOperation): string[] =>
  Object.entries(jsonBodySchema(op)?.properties ?? {})
    .filter(([, schema]) => resolveSchema(op.document, schema)?.type === 'string')
    .map(([name]) => name);

describe('the cases cover the API', () => {
  it('has a valid body for every operation that takes JSON, and validation accepts each', async () => {
    expect(jsonOperations().filter((op) => !(op.key in VALID_BODIES)).map((op) => op.key)).toEqual([]);
    expect(stale(operations, VALID_BODIES)).toEqual([]);
    for (const op of jsonOperations()) {
      const response = await send(op, { raw: JSON.stringify(validBody(op)), contentType: 'application/json' });
      expectNo5xx(response, `${op.key} valid body`);
      expect({ op: op.key, code: response.body?.code }).not.toEqual({ op: op.key, code: 'VALIDATION_FAILED' });
    }
  });
});

describe('malformed bodies', () => {
  it('refuses JSON that does not parse, other content types and non-object bodies with a 4xx', async () => {
    for (const op of jsonOperations()) {
      for (const { label, contentType, body, latin1 } of MALFORMED_BODIES) {
        expect4xx(await send(op, { raw: latin1 ? Buffer.from(body, 'latin1') : body, contentType }), `${op.key} ${label}`);
      }
      expect4xx(await send(op, {}), `${op.key} no body at all`);
    }
  });

  it('refuses a value of the wrong type in every field, and NoSQL operators, with 400', async () => {
    for (const op of jsonOperations()) {
      const body = validBody(op);
      const schema = jsonBodySchema(op);
      for (const property of Object.keys(schema?.properties ?? {})) {
        const optional = !(schema?.required ?? []).includes(property);
        for (const value of WRONG_TYPE_JSON) {
          const response = await send(op, { raw: withRawValue(body, property, value), contentType: 'application/json' });
          // null is how JSON says "absent": an optional field may take it.
          if (optional && value === 'null') expectNo5xx(response, `${op.key} ${property}=null`);
          else expectStatus(response, `${op.key} ${property}=${value}`, 400, 400);
        }
      }
    }
  });

  it('refuses unknown fields with 400 VALIDATION_FAILED naming them', async () => {
    for (const op of jsonOperations()) {
      for (const extra of ['isAdmin', 'role', 'tenantId', '$where', 'a.b', '']) {
        const response = await send(op, { raw: JSON.stringify({ ...validBody(op), [extra]: true }), contentType: 'application/json' });
        expectStatus(response, `${op.key} unknown field "${extra}"`, 400, 400);
        expect(response.body.code).toBe('VALIDATION_FAILED');
      }
    }
  });

  it('refuses poisoned prototypes (__proto__, constructor.prototype) with 400', async () => {
    for (const op of jsonOperations()) {
      for (const raw of PROTOTYPE_POLLUTION(validBody(op))) {
        expectStatus(await send(op, { raw, contentType: 'application/json' }), `${op.key} ${raw.slice(0, 60)}`, 400, 400);
      }
    }
    // Nothing leaked into the servers' own objects: a plain object is still plain.
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it('refuses a body over the limit with 413, and deeply nested bodies with a 4xx', async () => {
    for (const op of operations.filter((o) => o.method !== 'GET')) {
      const oversized = JSON.stringify({ padding: 'x'.repeat(BODY_LIMIT_BYTES) });
      const response = await send(op, { raw: oversized, contentType: 'application/json' });
      expectStatus(response, `${op.key} ${oversized.length} bytes`, 413, 413);
      expect(response.body).toMatchObject({ statusCode: 413, code: 'PAYLOAD_TOO_LARGE' });
    }
    for (const op of jsonOperations()) {
      for (const depth of [1000, 100_000]) {
        expect4xx(await send(op, { raw: deeplyNested(validBody(op), depth), contentType: 'application/json' }), `${op.key} nested ${depth} deep`);
      }
      const wide = JSON.stringify({ ...validBody(op), list: Array.from({ length: 50_000 }, (_, i) => i) });
      expect4xx(await send(op, { raw: wide, contentType: 'application/json' }), `${op.key} 50 000 array items`);
    }
  });
});

describe('injection-shaped strings', () => {
  it('answers every hostile string in every string field without a 5xx', async () => {
    for (const op of jsonOperations()) {
      const body = validBody(op);
      for (const property of stringProperties(op)) {
        for (const [label, value] of Object.entries(HOSTILE_STRINGS)) {
          // A fresh valid body each time: some operations create something (register needs a new e-mail).
          const response = await send(op, { raw: JSON.stringify({ ...validBody(op), ...body, [property]: value }), contentType: 'application/json' });
          expectNo5xx(response, `${op.key} ${property}: ${label}`);
        }
      }
    }
  });

  it('stores an accepted hostile claim title exactly as sent, and every table survives', async () => {
    const stored: string[] = [];
    for (const [label, title] of Object.entries(HOSTILE_STRINGS)) {
      const created = await platform.call('claims', 'POST', '/api/v1/claims', { token: veteran.token, body: { title, type: 'other' } });
      expectNo5xx(created, `claim title: ${label}`);
      if (created.status !== 201) continue;
      const read = await platform.call('claims', 'GET', `/api/v1/claims/${created.body.id}`, { token: veteran.token });
      expect({ label, title: read.body.title }).toEqual({ label, title: created.body.title });
      stored.push(label);
    }
    expect(stored).toEqual(expect.arrayContaining(['SQL tautology', 'SQL stacked query', 'script tag', 'emoji ZWJ sequence']));
    const sqlTitle = await platform.call('claims', 'GET', '/api/v1/claims?limit=100', { token: veteran.token });
    expect(sqlTitle.body.items.map((item: { title: string }) => item.title)).toContain(HOSTILE_STRINGS['SQL stacked query']);
    expect((await platform.sql.auth.query('SELECT count(*)::int AS n FROM users')).rows[0].n).toBeGreaterThan(0);
  });
});

describe('hostile path, query and header values', () => {
  it('answers hostile path parameters with a 4xx', async () => {
    for (const op of operations.filter((o) => o.path.includes('{'))) {
      for (const { label, value, raw } of HOSTILE_PATH_VALUES) {
        const path = op.path.replace(/\{[^}]+\}/g, raw ? value : encodeURIComponent(value));
        const body = takesJson(op) ? JSON.stringify(validBody(op)) : undefined;
        const response = await send(op, { path, raw: body, contentType: body ? 'application/json' : undefined });
        expect4xx(response, `${op.key} ${label}`);
      }
    }
  });

  it('answers hostile query strings without a 5xx (and type errors with 400)', async () => {
    for (const op of operations.filter((o) => o.method === 'GET')) {
      const documented = queryParameters(op).map((p) => p.name);
      for (const query of HOSTILE_QUERIES) {
        const response = await send(op, { path: `${fillPath(op.path)}?${query}` });
        expectNo5xx(response, `${op.key}?${query.slice(0, 60)}`);
        const name = decodeURIComponent(query.split('=')[0]!.split('[')[0]!);
        if (documented.includes(name) && /^(limit|offset)=(-|0$|1e|9{10}|abc|1\.5)/.test(query)) {
          expectStatus(response, `${op.key}?${query}`, 400, 400);
        }
      }
    }
  });

  it('answers hostile header values without a 5xx', async () => {
    const headers: Array<Record<string, string>> = [
      { 'idempotency-key': 'x'.repeat(300) },
      { 'idempotency-key': '' },
      { 'idempotency-key': "' OR 1=1 --\t" },
      { 'x-request-id': '../../etc/passwd' },
      { 'x-request-id': 'x'.repeat(4000) },
      { 'x-forwarded-for': "'; DROP TABLE users; --, not-an-ip, ::ffff:999.1.1.1" },
      { 'x-forwarded-for': Array.from({ length: 500 }, (_, i) => `10.0.${i % 250}.${i % 200}`).join(', ') },
      { 'user-agent': 'Mozilla/5.0 \u00ff'.repeat(200) },
      { origin: 'https://evil.example.org' },
      { accept: 'application/xml' },
      { 'accept-encoding': 'gzip;q=1e309, *;q=-1' },
      { 'content-encoding': 'gzip' },
    ];
    for (const op of operations) {
      for (const extra of headers) {
        const body = takesJson(op) ? JSON.stringify(validBody(op)) : undefined;
        const response = await send(op, { raw: body, contentType: body ? 'application/json' : undefined, headers: extra });
        expectNo5xx(response, `${op.key} ${JSON.stringify(extra).slice(0, 60)}`);
        if ('x-request-id' in extra) expect(response.headers.get('x-request-id')).not.toBe(extra['x-request-id']);
      }
    }
  });

  it('answers raw requests with broken framing and oversized headers with a 4xx, and keeps serving', async () => {
    const requests = [
      `GET /api/v1/claims HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      `POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      `POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n{}`,
      `GET /api/v1/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n`,
      `GET /api/v1/claims HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n`,
      `GET /api/v1/claims\u0000 HTTP/1.1\r\nHost: x\r\n\r\n`,
      `GET /api/v1/claims HTTP/1.1\r\nHost: x\r\nX-Fold: a\r\n b\r\n\r\n`,
    ];
    for (const service of SERVICES) {
      for (const request of requests) {
        const status = await rawStatus(service, request);
        expect({ service, request: request.slice(0, 50), status: status >= 400 && status < 500 }).toEqual({ service, request: request.slice(0, 50), status: true });
      }
    }
  });
});

describe('uploads', () => {
  const upload = async (fields: Parameters<typeof multipartBody>[0], contentType?: string) => {
    const body = await multipartBody(fields);
    return platform.call('documents', 'POST', '/api/v1/documents', { token: veteran.token, raw: body.payload, headers: { 'content-type': contentType ?? body.contentType } });
  };

  it('stores hostile file names sanitised, never as paths, and serves them back as attachments', async () => {
    const names = [
      '../../../../etc/passwd.pdf',
      '..\\..\\windows\\system32\\evil.pdf',
      '/absolute/path.pdf',
      'name\u0000.exe.pdf',
      'fdp.\u202eexe.pdf',
      'quote".pdf',
      'crlf\r\nContent-Type: text/html.pdf',
      `${'ü'.repeat(300)}.pdf`,
      '....pdf',
    ];
    for (const name of names) {
      const response = await upload([['claimId', claimId], ['file', samplePdf(), name, 'application/pdf']]);
      expectStatus(response, `upload named ${JSON.stringify(name).slice(0, 40)}`, 201, 201);
      const stored: string = response.body.filename;
      // eslint-disable-next-line no-control-regex -- control characters are what must not survive
      expect({ name, stored: /[\\/\u0000-\u001f\u202e"]/.test(stored) }).toEqual({ name, stored: false });
      expect(Buffer.byteLength(stored)).toBeLessThanOrEqual(180);
      const download = await fetch(`${platform.urls.documents}/api/v1/documents/${response.body.id}/content`, { headers: { authorization: `Bearer ${veteran.token}` } });
      expect(download.status).toBe(200);
      expect(download.headers.get('content-disposition')).toMatch(/^attachment; filename="[\x20-\x7e]*"; filename\*=UTF-8''/);
      expect(download.headers.get('content-type')).toBe('application/pdf');
      await download.arrayBuffer();
    }
    const { rows } = await platform.sql.documents.query('SELECT storage_key FROM documents');
    expect(rows.filter((row) => !/^[a-z0-9-]+\/[0-9a-f-]{36}$/.test(row.storage_key))).toEqual([]);
  });

  it('refuses content that is not what it claims, too large, malformed multipart and extra parts with a 4xx', async () => {
    const html = Buffer.from('<html><script>alert(1)</script></html>');
    const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(100)]);
    const cases: Array<[string, Promise<ApiResponse>, number]> = [
      ['HTML named .pdf', upload([['claimId', claimId], ['file', html, 'evidence.pdf', 'application/pdf']]), 415],
      ['an executable named .png', upload([['claimId', claimId], ['file', elf, 'photo.png', 'image/png']]), 415],
      ['one byte over UPLOAD_MAX_BYTES', upload([['claimId', claimId], ['file', Buffer.concat([samplePdf(), Buffer.alloc(UPLOAD_MAX_BYTES)]), 'big.pdf', 'application/pdf']]), 413],
      ['an empty file', upload([['claimId', claimId], ['file', Buffer.alloc(0), 'empty.pdf', 'application/pdf']]), 415],
      ['no file', upload([['claimId', claimId]]), 400],
      ['a file part without a name', upload([['claimId', claimId], ['file', samplePdf(), '', 'application/pdf']]), 400],
      ['two files', upload([['claimId', claimId], ['file', samplePdf(), 'a.pdf'], ['file', samplePdf(), 'b.pdf']]), 400],
      ['an unknown field', upload([['claimId', claimId], ['isAdmin', 'true'], ['file', samplePdf(), 'a.pdf']]), 400],
      ['a claim id that is SQL', upload([['claimId', "' OR 1=1 --"], ['file', samplePdf(), 'a.pdf']]), 400],
      ['no boundary', upload([['claimId', claimId], ['file', samplePdf(), 'a.pdf']], 'multipart/form-data'), 400],
      ['a wrong boundary', upload([['claimId', claimId], ['file', samplePdf(), 'a.pdf']], 'multipart/form-data; boundary=nope'), 400],
      ['JSON instead of multipart', platform.call('documents', 'POST', '/api/v1/documents', { token: veteran.token, body: { claimId } }), 415],
    ];
    for (const [label, pending, status] of cases) expectStatus(await pending, `upload: ${label}`, status, status === 400 ? 413 : status);
    // A body that ends inside the file, before its closing boundary: it used to hang until the server's request timeout.
    const full = await multipartBody([['claimId', claimId], ['file', Buffer.concat([samplePdf(), Buffer.alloc(2000, 7)]), 'a.pdf', 'application/pdf']]);
    for (const cut of [20, 500, 1500]) {
      const started = Date.now();
      const response = await platform.call('documents', 'POST', '/api/v1/documents', {
        token: veteran.token,
        raw: full.payload.subarray(0, full.payload.length - cut),
        headers: { 'content-type': full.contentType },
      });
      expectStatus(response, `upload: truncated by ${cut} bytes`, 400, 400);
      expect(Date.now() - started).toBeLessThan(5000);
    }
  });
});

describe('afterwards', () => {
  it('finds every service still ready', async () => {
    for (const service of SERVICES) expect({ service, status: (await platform.call(service, 'GET', '/health/ready')).status }).toEqual({ service, status: 200 });
  });
});

/** Sends `request` as raw bytes to `service` and returns the status of the answer (0 when the server hung up). */
function rawStatus(service: ServiceName, request: string): Promise<number> {
  const url = new URL(platform.urls[service]);
  return new Promise((resolve, reject) => {
    // Written, not ended: a client that half-closes before the answer is treated as gone.
    const socket = connect({ host: url.hostname, port: Number(url.port) }, () => socket.write(Buffer.from(request, 'latin1')));
    let answer = '';
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer from ${service} to ${JSON.stringify(request.slice(0, 40))}`)));
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (/\r\n\r\n/.test(answer)) socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 0)));
  });
}
