import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { LocalDiskStorageDriver } from './local-disk-storage.driver';
import { InvalidStorageKeyError, StorageObjectNotFoundError } from './storage.driver';

describe('LocalDiskStorageDriver', () => {
  let root: string;
  let driver: LocalDiskStorageDriver;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'rf-storage-'));
    driver = LocalDiskStorageDriver.create({ rootDir: root });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('stores, reads back and deletes an object', async () => {
    const key = `acme/${randomUUID()}`;
    const stored = await driver.put(key, Readable.from([Buffer.from('hello '), Buffer.from('world')]));
    expect(stored).toEqual({ size: 11, sha256: createHash('sha256').update('hello world').digest('hex') });
    expect(await readFile(join(root, key), 'utf8')).toBe('hello world');
    expect(await text(await driver.get(key))).toBe('hello world');

    await driver.delete(key);
    await expect(driver.get(key)).rejects.toBeInstanceOf(StorageObjectNotFoundError);
    await expect(driver.delete(key)).resolves.toBeUndefined();
  });

  it('leaves nothing behind when the stream fails', async () => {
    const key = `acme/${randomUUID()}`;
    const failing = new Readable({
      read() {
        this.push(Buffer.from('partial'));
        this.destroy(new Error('client went away'));
      },
    });
    await expect(driver.put(key, failing)).rejects.toThrow('client went away');
    await expect(driver.get(key)).rejects.toBeInstanceOf(StorageObjectNotFoundError);
    expect(await readdir(join(root, '.tmp'))).toEqual([]);
  });

  it('refuses keys that are not <tenant>/<uuid>', async () => {
    for (const key of ['../etc/passwd', `acme/../../${randomUUID()}`, 'acme/report.pdf', `/abs/${randomUUID()}`, `ACME/${randomUUID()}`]) {
      await expect(driver.put(key, Readable.from([]))).rejects.toBeInstanceOf(InvalidStorageKeyError);
      await expect(driver.get(key)).rejects.toBeInstanceOf(InvalidStorageKeyError);
    }
  });
});
