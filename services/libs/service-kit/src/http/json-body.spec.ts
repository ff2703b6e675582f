import { jsonBodyProblem, MAX_JSON_DEPTH } from './json-body';

describe('jsonBodyProblem', () => {
  const nested = (depth: number): unknown => (depth === 0 ? 'leaf' : [nested(depth - 1)]);

  it('accepts ordinary bodies, unicode included', () => {
    expect(jsonBodyProblem({ title: 'Knee 🦵 — Müller', tags: ['a', { b: [1, null, true] }] })).toBeUndefined();
    expect(jsonBodyProblem(nested(MAX_JSON_DEPTH))).toBeUndefined();
  });

  it('refuses bodies nested deeper than MAX_JSON_DEPTH, without recursing itself', () => {
    expect(jsonBodyProblem(nested(MAX_JSON_DEPTH + 1))).toMatch(/nested too deeply/);
    const deep = JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`);
    expect(jsonBodyProblem(deep)).toMatch(/nested too deeply/);
  });

  it.each([
    ['a NUL in a value', { title: 'a\u0000b' }, 'title'],
    ['an unpaired high surrogate', { user: { email: 'a\ud800b' } }, 'user.email'],
    ['an unpaired low surrogate in a list', { items: ['ok', '\udc00'] }, 'items[1]'],
    ['a NUL in a key', { 'a\u0000': 1 }, 'a field name'],
  ])('refuses %s, naming where', (_label, body, where) => {
    expect(jsonBodyProblem(body)).toBe(`${where} must be valid Unicode text without NUL characters (it has a NUL or an unpaired surrogate); send plain UTF-8 text`);
  });
});
