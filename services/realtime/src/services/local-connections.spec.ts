import { LocalConnections } from './local-connections';

const connection = (id: string, userId = 'u1') => ({ id, tenantId: 't1', userId, send: jest.fn() });

describe('LocalConnections', () => {
  it('reports the first and the last socket of a user', () => {
    const registry = new LocalConnections();
    expect(registry.add('t:t1:user:u1', connection('a'))).toBe(true);
    expect(registry.add('t:t1:user:u1', connection('b'))).toBe(false);
    expect(registry.size).toBe(2);
    expect(registry.remove('t:t1:user:u1', 'a')).toBe(false);
    expect(registry.remove('t:t1:user:u1', 'b')).toBe(true);
    expect(registry.size).toBe(0);
    expect(registry.keys()).toEqual([]);
  });

  it('keeps users apart and ignores unknown or repeated removals', () => {
    const registry = new LocalConnections();
    registry.add('t:t1:user:u1', connection('a'));
    registry.add('t:t1:user:u2', connection('b', 'u2'));
    registry.add('t:t1:user:u2', connection('b', 'u2'));
    expect(registry.size).toBe(2);
    expect(registry.forKey('t:t1:user:u1').map((c) => c.id)).toEqual(['a']);
    expect(registry.forKey('t:t2:user:u1')).toEqual([]);
    expect(registry.remove('t:t1:user:u1', 'zzz')).toBe(false);
    expect(registry.remove('t:t1:user:u1', 'a')).toBe(true);
    expect(registry.remove('t:t1:user:u1', 'a')).toBe(false);
    expect(registry.all().map((c) => c.id)).toEqual(['b']);
  });
});
