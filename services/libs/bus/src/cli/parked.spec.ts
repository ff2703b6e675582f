import { formatParked, parseArgs } from './parked';

describe('parked CLI arguments', () => {
  it('parses list with options', () => {
    expect(parseArgs(['list', 'claims', '--limit', '5', '--json'])).toMatchObject({ action: 'list', service: 'claims', limit: 5, json: true });
  });

  it('parses replay of one message or of all', () => {
    expect(parseArgs(['replay', 'claims', '--id', 'abc'])).toMatchObject({ action: 'replay', service: 'claims', id: 'abc', all: false });
    expect(parseArgs(['replay', 'claims', '--all'])).toMatchObject({ action: 'replay', all: true });
  });

  it('refuses replay without exactly one selector, unknown actions and options', () => {
    expect(() => parseArgs(['replay', 'claims'])).toThrow(/exactly one of --id <messageId> or --all/);
    expect(() => parseArgs(['replay', 'claims', '--id', 'a', '--all'])).toThrow(/exactly one/);
    expect(() => parseArgs(['purge', 'claims'])).toThrow(/Usage/);
    expect(() => parseArgs(['list'])).toThrow(/Usage/);
    expect(() => parseArgs(['list', 'claims', '--force'])).toThrow(/Unknown option --force/);
    expect(() => parseArgs(['list', 'claims', '--limit', '0'])).toThrow(/--limit/);
  });

  it('prints id, type, tenant, attempts, reason and error of each message', () => {
    const text = formatParked([
      { messageId: 'm-1', type: 'claim.created', tenantId: 'acme', attempts: 4, error: 'Error: boom', reason: 'failed', parkedAt: '2025-01-01T00:00:00.000Z', originalRoutingKey: 'claim.created', body: {} },
    ]);
    expect(text).toContain('m-1  claim.created  tenant=acme  attempts=4  reason=failed');
    expect(text).toContain('error: Error: boom');
    expect(formatParked([])).toBe('No parked messages.');
  });
});
