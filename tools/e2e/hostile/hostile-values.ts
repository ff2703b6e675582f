import { randomUUID } from 'node:crypto';
import type { Member } from '../../test/in-process-platform';
import type { ApiOperation } from './api-catalogue';

/**
 * What a hostile user types: injection-shaped strings, unicode edge cases, wrong types, and the valid bodies they are
 * mixed into. Shared by hostile-input.spec.ts (each value on purpose) and fuzz.spec.ts (random combinations).
 */

/** Strings that have broken parsers, queries, headers, file systems and logs. */
export const HOSTILE_STRINGS: Readonly<Record<string, string>> = {
  'SQL tautology': "' OR '1'='1' --",
  'SQL stacked query': "'; DROP TABLE users; --",
  'SQL union': '1 UNION SELECT password_hash FROM users --',
  'SQL comment and quote': "admin'/*",
  'PostgreSQL dollar quote': '$$; SELECT pg_sleep(5); $$',
  'NoSQL operator as text': '{"$gt": ""}',
  'path traversal': '../../../../etc/passwd',
  'encoded path traversal': '..%2f..%2f..%2fetc%2fpasswd',
  'Windows path traversal': '..\\..\\..\\windows\\win.ini',
  'header injection': 'x\r\nSet-Cookie: session=stolen',
  'script tag': '<script>alert(document.cookie)</script>',
  'template injection': '${7*7}{{7*7}}<%= 7*7 %>',
  'format string': '%s%s%s%n%x',
  'LDAP filter': '*)(uid=*))(|(uid=*',
  'Redis glob': 't:*:*',
  'JSON in a string': '{"__proto__":{"isAdmin":true}}',
  'NUL byte': 'evidence\u0000.pdf',
  'only NUL': '\u0000',
  'control characters': '\u0001\u0007\u001b[31m\u007f',
  'lone high surrogate': 'a\ud800b',
  'lone low surrogate': '\udc00',
  'right-to-left override': 'fdp.\u202eexe',
  'zero-width and BOM': 'a\u200b\u200d\ufeffb',
  'emoji ZWJ sequence': '🎖️👨‍👩‍👧‍👦🏳️‍🌈',
  'combining marks': 'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇',
  'non-characters': '\uffff\ufffe\u{10ffff}',
  'decomposed accents': 'e\u0301e\u0301',
  'very long ASCII': 'A'.repeat(100_000),
  'very long astral': '𝕏'.repeat(20_000),
  empty: '',
  whitespace: ' \t\n\r ',
  'number-like': '1e309',
};

/** JSON texts of values of the wrong type for a string field (raw, so 1e309 and -0 survive to the parser). */
export const WRONG_TYPE_JSON: readonly string[] = [
  '0',
  '-0',
  '1e309',
  '123456789012345678901234567890',
  '0.1',
  'true',
  'null',
  '[]',
  '["a","b"]',
  '{}',
  '{"$gt":""}',
  '{"$ne":null}',
  '{"__proto__":{"isAdmin":true}}',
];

/** Bodies that are not JSON, or not what a JSON endpoint takes, with a content type each. */
export const MALFORMED_BODIES: ReadonlyArray<{ label: string; contentType: string; body: string; latin1?: boolean }> = [
  { label: 'truncated JSON', contentType: 'application/json', body: '{"email": "a@example.org", ' },
  { label: 'single quotes', contentType: 'application/json', body: "{'email': 'a@example.org'}" },
  { label: 'trailing garbage', contentType: 'application/json', body: '{}garbage' },
  { label: 'two documents', contentType: 'application/json', body: '{}{}' },
  { label: 'comment', contentType: 'application/json', body: '{/* hi */}' },
  { label: 'byte-order mark', contentType: 'application/json', body: '\ufeff{}' },
  { label: 'empty JSON body', contentType: 'application/json', body: '' },
  { label: 'whitespace only', contentType: 'application/json', body: '   ' },
  { label: 'bare string', contentType: 'application/json', body: '"just a string"' },
  { label: 'bare number', contentType: 'application/json', body: '42' },
  { label: 'null', contentType: 'application/json', body: 'null' },
  { label: 'array', contentType: 'application/json', body: '[{"email":"a@example.org"}]' },
  { label: 'invalid UTF-8', contentType: 'application/json', body: '{"email":"\xff\xfe\xc0\xaf"}', latin1: true },
  { label: 'JSON with a charset the server does not speak', contentType: 'application/json; charset=utf-16', body: '{}' },
  { label: 'plain text', contentType: 'text/plain', body: 'email=a@example.org' },
  { label: 'form encoded', contentType: 'application/x-www-form-urlencoded', body: 'email=a%40example.org&role=org_admin' },
  { label: 'XML', contentType: 'application/xml', body: '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>' },
  { label: 'multipart to a JSON endpoint', contentType: 'multipart/form-data; boundary=x', body: '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--\r\n' },
  { label: 'JSON-ish content type', contentType: 'application/json-patch+json', body: '[{"op":"add","path":"/role","value":"org_admin"}]' },
];

/** Bodies that poison prototypes (as raw JSON text: JSON.stringify would drop `__proto__`). */
export const PROTOTYPE_POLLUTION = (base: Record<string, unknown>): string[] => {
  const fields = JSON.stringify(base).slice(1, -1);
  const comma = fields ? `${fields},` : '';
  return [
    `{${comma}"__proto__":{"isAdmin":true,"role":"org_admin"}}`,
    `{${comma}"constructor":{"prototype":{"isAdmin":true}}}`,
    `{"__proto__":{"toString":"boom"},${fields || '"x":1'}}`,
  ];
};

/** `[[[…]]]` nested `depth` deep, inside the body's first field. */
export function deeplyNested(base: Record<string, unknown>, depth: number): string {
  const [first] = Object.keys(base);
  const nested = `${'['.repeat(depth)}${']'.repeat(depth)}`;
  const rest = JSON.stringify({ ...base, [first ?? 'x']: undefined }).slice(1, -1);
  return `{"${first ?? 'x'}":${nested}${rest ? `,${rest}` : ''}}`;
}

/** Hostile path parameter values (each is URL-encoded into the path by the caller, or sent raw when `raw`). */
export const HOSTILE_PATH_VALUES: ReadonlyArray<{ label: string; value: string; raw?: boolean }> = [
  { label: 'traversal', value: '../../../../etc/passwd' },
  { label: 'raw traversal', value: '..%2F..%2F..%2Fetc%2Fpasswd', raw: true },
  { label: 'double-encoded traversal', value: '%252e%252e%252f', raw: true },
  { label: 'NUL', value: '%00', raw: true },
  { label: 'SQL', value: "1' OR '1'='1" },
  { label: 'almost a UUID', value: '00000000-0000-0000-0000-00000000000g' },
  { label: 'UUID with braces', value: '{00000000-0000-4000-8000-000000000000}' },
  { label: 'upper-case UUID', value: randomUUID().toUpperCase() },
  { label: 'nil UUID', value: '00000000-0000-0000-0000-000000000000' },
  { label: 'very long', value: 'a'.repeat(5000) },
  { label: 'unicode', value: 'ünïcødé-🎖️' },
  { label: 'lone surrogate', value: '%ED%A0%80', raw: true },
  { label: 'dot', value: '.' },
  { label: 'current', value: 'current' },
  { label: 'template', value: '{id}' },
];

/** Hostile query strings (appended raw after `?`). */
export const HOSTILE_QUERIES: readonly string[] = [
  'limit=-1',
  'limit=0',
  'limit=1e309',
  'limit=99999999999999999999',
  'limit=abc',
  'limit=1&limit=2',
  'limit[$gt]=0',
  'limit[]=1',
  'offset=-5',
  'offset=1.5',
  'cursor=%00',
  `cursor=${'A'.repeat(5000)}`,
  'cursor=MTA6bm90LWEtdXVpZA',
  'cursor=OTk5OTk5OTk5OTk5OTk5OmFhYWFhYWFhLWFhYWEtYWFhYS1hYWFhLWFhYWFhYWFhYWFhYQ',
  'from=not-a-date',
  'from=0000-01-01T00:00:00Z',
  'from=-000001-01-01T00:00:00Z',
  'from=+275760-09-13T00:00:00.000Z',
  'to=9999-99-99',
  'from=2030-01-01T00:00:00Z&to=2020-01-01T00:00:00Z',
  "actor=' OR 1=1 --",
  'actor=%00',
  'action=*',
  '__proto__[isAdmin]=true',
  'constructor[prototype][isAdmin]=true',
  'a=%E0%A4%A',
  `x=${'%F0%9F%8E%96'.repeat(500)}`,
];

/** A body of each JSON operation that passes validation (so a test's one defect is what gets refused). */
export interface BodyContext {
  /** The caller (a member of an open organisation). */
  member: Member;
  planId: string;
}

export const VALID_BODIES: Readonly<Record<string, (context: BodyContext) => Record<string, unknown>>> = {
  'POST /api/v1/auth/register': ({ member }) => ({ organisation: member.org, email: `new-${randomUUID()}@example.org`, password: 'Correct-Horse-9', displayName: 'New Member' }),
  'POST /api/v1/auth/login': ({ member }) => ({ organisation: member.org, email: member.email, password: 'Wrong-Password-1' }),
  'POST /api/v1/auth/refresh': ({ member }) => ({ refreshToken: `rt1.${member.org}.${'A'.repeat(43)}` }),
  'POST /api/v1/auth/logout': ({ member }) => ({ refreshToken: `rt1.${member.org}.${'B'.repeat(43)}` }),
  'POST /api/v1/auth/verify-email': ({ member }) => ({ token: `ev1.${member.org}.${'C'.repeat(43)}` }),
  'POST /api/v1/auth/password-reset/request': ({ member }) => ({ organisation: member.org, email: `nobody-${randomUUID()}@example.org` }),
  'POST /api/v1/auth/password-reset': ({ member }) => ({ token: `pr1.${member.org}.${'D'.repeat(43)}`, password: 'Correct-Horse-9' }),
  'DELETE /api/v1/auth/me': () => ({ password: 'Not-The-Password-1' }),
  'POST /api/v1/auth/invitations': () => ({ email: `invitee-${randomUUID()}@example.org`, role: 'veteran' }),
  'POST /api/v1/auth/invitations/accept': ({ member }) => ({ token: `iv1.${member.org}.${'E'.repeat(43)}`, password: 'Correct-Horse-9', displayName: 'Invitee' }),
  'POST /api/v1/auth/login/mfa': ({ member }) => ({ mfaToken: `mfa1.${member.org}.${'F'.repeat(43)}`, code: '123456' }),
  'POST /api/v1/auth/me/2fa/confirm': () => ({ code: '123456' }),
  'POST /api/v1/auth/me/2fa/disable': () => ({ password: 'Not-The-Password-1', code: '123456' }),
  'POST /api/v1/auth/me/2fa/recovery-codes': () => ({ code: '123456' }),
  'POST /api/v1/claims': () => ({ title: 'Hearing loss from artillery', type: 'disability_compensation' }),
  'PATCH /api/v1/claims/{id}/status': () => ({ status: 'in_review' }),
  'POST /api/v1/payments/checkout': ({ planId }) => ({ planId }),
};

/** Operations whose documented body is JSON. */
export const takesJson = (op: ApiOperation): boolean => op.operation.requestBody?.content['application/json'] !== undefined;
