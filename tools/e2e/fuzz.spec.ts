/**
 * Fuzzing every documented operation of every service (from their OpenAPI documents) with a few thousand random
 * requests — valid bodies with fields mutated into hostile strings, random unicode, wrong types and shapes, dropped
 * and unknown fields, garbage bodies and content types, hostile path, query and header values, random uploads — as a
 * veteran, a representative, an admin, with a forged token, and anonymously. No answer may be a 5xx, and every
 * service must still be ready afterwards.
 *
 * Deterministic: request i is generated from (seed, i) alone, so a failure reproduces with the seed it prints:
 *   RF_FUZZ_SEED=<seed> npx jest --ci tools/e2e/fuzz.spec.ts            (the whole run)
 *   RF_FUZZ_SEED=<seed> RF_FUZZ_CASES=<i>,<j> npx jest --ci tools/e2e/fuzz.spec.ts   (just those requests)
 * RF_FUZZ_PAYLOADS changes the number of requests (default FUZZ_PAYLOADS).
 */
import { randomInt, randomUUID } from 'node:crypto';
import { multipartBody } from '@rallyforge/documents/test/documents-harness';
import { sampleJpeg, samplePdf, samplePng } from '@rallyforge/documents/test/fixtures';
import { SERVICES, startInProcessPlatform, type InProcessPlatform, type Member } from '../test/in-process-platform';
import { fillPath, jsonBodySchema, loadApiOperations, queryParameters, takesMultipart, type ApiOperation } from './hostile/api-catalogue';
import { forgeTokens } from './hostile/forged-tokens';
import { HOSTILE_PATH_VALUES, HOSTILE_QUERIES, HOSTILE_STRINGS, MALFORMED_BODIES, VALID_BODIES, WRONG_TYPE_JSON, takesJson } from './hostile/hostile-values';

export const FUZZ_PAYLOADS = 3000;
/** Requests in flight at once: enough to keep the services busy, few enough for two shared cores. */
const CONCURRENCY = 6;

const SEED = Number(process.env.RF_FUZZ_SEED ?? randomInt(2 ** 31));
const PAYLOADS = Number(process.env.RF_FUZZ_PAYLOADS ?? FUZZ_PAYLOADS);
const ONLY = process.env.RF_FUZZ_CASES?.split(',').map(Number);

/** mulberry32: small, fast, and the same sequence everywhere for the same seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Random {
  constructor(readonly next: () => number) {}
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }
  /** Random text: ASCII, controls, NUL, Latin-1, CJK, emoji, unpaired surrogates; mostly short, sometimes long. */
  text(): string {
    const length = this.chance(0.05) ? this.int(1000, 20_000) : this.int(0, 40);
    const ranges: Array<[number, number]> = [
      [0x20, 0x7e],
      [0x20, 0x7e],
      [0x00, 0x1f],
      [0xa0, 0xff],
      [0x4e00, 0x4fff],
      [0x1f300, 0x1f6ff],
      [0xd800, 0xdfff],
      [0x202a, 0x202e],
    ];
    let out = '';
    for (let i = 0; i < length; i++) {
      const [from, to] = this.pick(ranges);
      out += String.fromCodePoint(this.int(from, to));
    }
    return out;
  }
}

/** encodeURIComponent, except that an unpaired surrogate becomes its (invalid) three UTF-8-style bytes instead of throwing. */
function percentEncode(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (code >= 0xd800 && code <= 0xdfff) {
      out += [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    } else {
      out += encodeURIComponent(ch);
    }
  }
  return out;
}

interface FuzzRequest {
  index: number;
  op: string;
  method: string;
  path: string;
  as: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  describe: string;
}

let platform: InProcessPlatform;
let operations: ApiOperation[];
let members: Record<'veteran' | 'representative' | 'admin', Member>;
let forged: string[];
let planId: string;
/** Ids that exist, so that path parameters sometimes name something real (the caller's or someone else's). */
const ids: string[] = [];

beforeAll(async () => {
  platform = await startInProcessPlatform('fuzz');
  operations = await loadApiOperations(platform);
  const org = await platform.organisation('fuzz');
  members = {
    veteran: await platform.member(org, 'fuzz-veteran'),
    representative: await platform.member(org, 'fuzz-rep', 'representative'),
    admin: await platform.member(org, 'fuzz-admin', 'org_admin'),
  };
  forged = (await forgeTokens(platform, members.veteran)).forged.map((f) => f.token);
  planId = (await platform.call('payments', 'GET', '/api/v1/payments/plans')).body.items[0].id;
  const claim = await platform.call('claims', 'POST', '/api/v1/claims', { token: members.veteran.token, body: { title: 'Fuzzed claim', type: 'pension' } });
  ids.push(claim.body.id, members.veteran.id, members.admin.id);
  const other = await platform.member(await platform.organisation('fuzz-other'), 'fuzz-other');
  const otherClaim = await platform.call('claims', 'POST', '/api/v1/claims', { token: other.token, body: { title: 'Someone else', type: 'other' } });
  ids.push(otherClaim.body.id, other.id);
}, 120_000);

afterAll(async () => {
  await platform?.close();
});

/** Mutates a valid body: each field kept, replaced (hostile string, random text, wrong type) or dropped; extras added. */
function mutatedJson(random: Random, op: ApiOperation, member: Member): string {
  if (random.chance(0.05)) return random.pick(MALFORMED_BODIES).body;
  if (random.chance(0.05)) return random.pick(WRONG_TYPE_JSON);
  const valid = VALID_BODIES[op.key]?.({ member, planId }) ?? {};
  const properties = new Set([...Object.keys(valid), ...Object.keys(jsonBodySchema(op)?.properties ?? {})]);
  const parts: string[] = [];
  for (const property of properties) {
    if (random.chance(0.1)) continue;
    let value: string;
    if (random.chance(0.55) && property in valid) value = JSON.stringify(valid[property]);
    else if (random.chance(0.4)) value = JSON.stringify(random.pick(Object.values(HOSTILE_STRINGS)));
    else if (random.chance(0.5)) value = JSON.stringify(random.text());
    else value = random.pick(WRONG_TYPE_JSON);
    parts.push(`${JSON.stringify(property)}:${value}`);
  }
  if (random.chance(0.1)) parts.push(`${JSON.stringify(random.chance(0.5) ? random.text() : random.pick(['role', 'tenantId', '__proto__', 'constructor']))}:${random.pick(WRONG_TYPE_JSON)}`);
  return `{${parts.join(',')}}`;
}

async function multipart(random: Random): Promise<{ body: Buffer; contentType: string }> {
  const fields: Parameters<typeof multipartBody>[0] = [];
  if (random.chance(0.8)) fields.push(['claimId', random.chance(0.6) ? random.pick(ids) : random.pick([random.text(), randomUUID()])]);
  if (random.chance(0.1)) fields.push([random.pick(['ownerId', 'tenantId', 'claimId', random.text() || 'x']), random.text()]);
  if (random.chance(0.85)) {
    const content = random.pick([samplePdf(), samplePng(), sampleJpeg(), Buffer.from(random.text()), Buffer.alloc(random.int(0, 5000), random.int(0, 255))]);
    const name = random.chance(0.5) ? random.pick(['evidence.pdf', 'photo.png', 'scan.jpg']) : random.pick(Object.values(HOSTILE_STRINGS)).slice(0, 300);
    fields.push(['file', content, name.replace(/[\r\n]/g, '') || 'x', random.pick(['application/pdf', 'image/png', 'text/html', 'application/octet-stream'])]);
  }
  const { payload, contentType } = await multipartBody(fields);
  if (random.chance(0.1)) return { body: payload.subarray(0, random.int(0, payload.length)), contentType };
  if (random.chance(0.05)) return { body: payload, contentType: random.pick(['multipart/form-data', 'multipart/form-data; boundary=nope', 'application/json']) };
  return { body: payload, contentType };
}

/** Request `index` of the run: the same for the same seed, whatever ran before it. */
async function generate(index: number): Promise<FuzzRequest> {
  const random = new Random(prng((SEED ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0));
  const op = random.pick(operations);
  const who = random.pick(['veteran', 'veteran', 'representative', 'admin', 'forged', 'anonymous'] as const);
  const member = who === 'forged' || who === 'anonymous' ? members.veteran : members[who];
  const headers: Record<string, string> = {};
  if (who === 'forged') headers.authorization = `Bearer ${random.pick(forged)}`;
  else if (who !== 'anonymous') headers.authorization = `Bearer ${member.token}`;

  const pathValues: Record<string, string> = {};
  for (const [, name] of op.path.matchAll(/\{([^}]+)\}/g)) {
    const hostile = random.pick(HOSTILE_PATH_VALUES);
    pathValues[name!] = random.chance(0.5) ? random.pick(ids) : random.chance(0.5) ? randomUUID() : hostile.value;
  }
  let path = fillPath(op.path, pathValues);
  const query: string[] = [];
  for (const parameter of queryParameters(op)) {
    if (random.chance(0.5)) continue;
    const value = random.pick([String(random.int(-5, 200)), random.text(), random.pick(Object.values(HOSTILE_STRINGS)), new Date(random.int(-1e14, 3e14)).toString()]);
    query.push(`${percentEncode(parameter.name)}=${percentEncode(value)}`);
  }
  if (random.chance(0.2)) query.push(random.pick(HOSTILE_QUERIES));
  if (query.length > 0) path += `?${query.join('&')}`;

  let body: string | Buffer | undefined;
  if (takesMultipart(op)) {
    const form = await multipart(random);
    body = form.body;
    headers['content-type'] = form.contentType;
  } else if (takesJson(op) || (op.method !== 'GET' && random.chance(0.3))) {
    body = mutatedJson(random, op, member);
    headers['content-type'] = random.chance(0.93) ? 'application/json' : random.pick(MALFORMED_BODIES).contentType;
  }
  if (random.chance(0.1)) headers[random.pick(['idempotency-key', 'x-request-id', 'x-forwarded-for', 'origin', 'accept'])] = random.text().replace(/[^\t\x20-\x7e\x80-\xff]/g, '');
  const describe = `${op.method} ${path.slice(0, 200)} as ${who}${body !== undefined ? ` with ${headers['content-type']} ${String(body).slice(0, 200)}` : ''}`;
  return { index, op: op.key, method: op.method, path, as: who, headers, body, describe };
}

describe('fuzzing the documented API', () => {
  it(`answers ${PAYLOADS} random requests without a 5xx, and every service stays ready (seed ${SEED})`, async () => {
    const indexes = ONLY ?? Array.from({ length: PAYLOADS }, (_, i) => i);
    const failures: Array<{ index: number; request: string; status: number | string; body: string }> = [];
    const statuses: Record<string, number> = {};
    const perOperation = new Map<string, number>();
    const started = Date.now();
    let cursor = 0;

    async function worker(): Promise<void> {
      while (cursor < indexes.length) {
        const request = await generate(indexes[cursor++]!);
        perOperation.set(request.op, (perOperation.get(request.op) ?? 0) + 1);
        const op = operations.find((o) => o.key === request.op)!;
        let status: number | string;
        let text = '';
        try {
          const response = await platform.call(op.service, request.method, request.path, { headers: request.headers, raw: request.body });
          status = response.status;
          text = response.text;
        } catch (error) {
          status = `no answer: ${error instanceof Error ? `${error.message} ${String((error as { cause?: unknown }).cause ?? '')}` : String(error)}`;
        }
        const bucket = typeof status === 'number' ? `${Math.floor(status / 100)}xx` : 'none';
        statuses[bucket] = (statuses[bucket] ?? 0) + 1;
        if (typeof status !== 'number' || status >= 500) failures.push({ index: request.index, request: request.describe, status, body: text.slice(0, 300) });
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, () => worker()));
    const durationMs = Date.now() - started;
    console.log(`FUZZ ${JSON.stringify({ seed: SEED, payloads: indexes.length, durationMs, statuses, operations: perOperation.size })}`);

    const reproduce = `RF_FUZZ_SEED=${SEED} RF_FUZZ_CASES=${failures.map((f) => f.index).slice(0, 20).join(',')}`;
    expect({ seed: SEED, reproduce: failures.length ? reproduce : '', failures: failures.slice(0, 10) }).toEqual({ seed: SEED, reproduce: '', failures: [] });
    if (!ONLY) expect(operations.filter((op) => !perOperation.has(op.key)).map((op) => op.key)).toEqual([]);
    for (const service of SERVICES) {
      expect({ seed: SEED, service, ready: (await platform.call(service, 'GET', '/health/ready')).status }).toEqual({ seed: SEED, service, ready: 200 });
    }
  });
});
