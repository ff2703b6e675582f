import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { archiveSafeName, tar, tarGz, TarEntryError } from './tar-archive';

describe('tar-archive', () => {
  it('writes a gzip-compressed ustar archive that the system tar lists and extracts byte for byte', () => {
    const binary = Buffer.from(Array.from({ length: 1300 }, (_, i) => i % 256));
    const archive = tarGz([
      { name: 'README.txt', content: 'Your data\n' },
      { name: 'documents/files/a-scan.pdf', content: binary },
      { name: 'auth/profile.json', content: JSON.stringify({ name: 'Zoë' }) },
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'rf-tar-'));
    try {
      const file = join(dir, 'export.tar.gz');
      writeFileSync(file, archive);
      const listing = execFileSync('tar', ['-tzf', file], { encoding: 'utf8' }).trim().split('\n');
      expect(listing).toEqual(['README.txt', 'documents/files/a-scan.pdf', 'auth/profile.json']);
      execFileSync('tar', ['-xzf', file, '-C', dir]);
      expect(readFileSync(join(dir, 'documents/files/a-scan.pdf')).equals(binary)).toBe(true);
      expect(JSON.parse(readFileSync(join(dir, 'auth/profile.json'), 'utf8'))).toEqual({ name: 'Zoë' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pads every entry to 512-byte blocks and ends with two empty blocks', () => {
    const raw = tar([{ name: 'a.txt', content: 'x' }]);
    expect(raw.length).toBe(512 * 4);
    expect(gunzipSync(tarGz([{ name: 'a.txt', content: 'x' }])).length).toBe(512 * 4);
  });

  it('refuses absolute, traversing, empty, duplicate and over-long names', () => {
    for (const name of ['/etc/passwd', '../x', 'a/../../b', '', 'a//b', 'x'.repeat(101)]) {
      expect(() => tar([{ name, content: '' }])).toThrow(TarEntryError);
    }
    expect(() => tar([{ name: 'a', content: '' }, { name: 'a', content: '' }])).toThrow(/Duplicate/);
  });

  it('makes user-supplied file names safe and short', () => {
    expect(archiveSafeName('../../etc/passwd')).toBe('etc_passwd');
    expect(archiveSafeName('Scan (1) été.pdf')).toBe('Scan_1_ete.pdf');
    expect(archiveSafeName('....')).toBe('file');
    expect(archiveSafeName('x'.repeat(200)).length).toBe(60);
  });
});
