import { isWildcardPattern, matchesTopicPattern } from './topic-pattern';

describe('matchesTopicPattern (AMQP topic semantics)', () => {
  it.each([
    ['claim.created', 'claim.created', true],
    ['claim.created', 'claim.closed', false],
    ['claim.*', 'claim.created', true],
    ['claim.*', 'claim.evidence.added', false],
    ['claim.*', 'claim', false],
    ['*.created', 'claim.created', true],
    ['claim.#', 'claim', true],
    ['claim.#', 'claim.evidence.added', true],
    ['#', 'auth.user.registered', true],
    ['#.registered', 'auth.user.registered', true],
    ['auth.#.registered', 'auth.registered', true],
    ['auth.#.registered', 'auth.user.deleted', false],
    ['*.*', 'document.uploaded', true],
    ['*.*', 'auth.user.registered', false],
  ])('%s matches %s: %s', (pattern, key, expected) => {
    expect(matchesTopicPattern(pattern, key)).toBe(expected);
  });

  it('tells wildcard patterns from plain routing keys', () => {
    expect(isWildcardPattern('claim.*')).toBe(true);
    expect(isWildcardPattern('#')).toBe(true);
    expect(isWildcardPattern('claim.created')).toBe(false);
    expect(isWildcardPattern('claim.a*b')).toBe(false);
  });
});
