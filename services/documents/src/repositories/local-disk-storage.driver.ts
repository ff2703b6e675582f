import { createHash, randomUUID } from 'node:crypto';
import { FileHandle, mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StorageDriver, StorageObjectNotFoundError, StoredObject, assertStorageKey } from './storage.driver';

/** Uploads in progress live here (same filesystem as the objects, so the final rename is atomic). */
export const LOCAL_STORAGE_TMP_DIR = '.tmp';
/** Owner-only: document bytes are personal data. */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

export interface LocalDiskStorageOptions {
  /** Root directory (STORAGE_LOCAL_DIR). Created if missing. */
  rootDir: string;
}

/**
 * Stores objects as files under `rootDir/<tenant>/<uuid>`. Writes go to a temporary file first and are renamed
 * into place only after the whole stream succeeded and was flushed to disk, so readers never see a partial file
 * and a rejected upload leaves nothing behind.
 */
export class LocalDiskStorageDriver implements StorageDriver {
  private constructor(private readonly rootDir: string) {}

  static create(options: LocalDiskStorageOptions): LocalDiskStorageDriver {
    return new LocalDiskStorageDriver(options.rootDir);
  }

  async put(key: string, content: Readable): Promise<StoredObject> {
    assertStorageKey(key);
    const target = this.pathOf(key);
    const tmpDir = join(this.rootDir, LOCAL_STORAGE_TMP_DIR);
    await mkdir(tmpDir, { recursive: true, mode: DIR_MODE });
    await mkdir(join(this.rootDir, key.split('/')[0]!), { recursive: true, mode: DIR_MODE });
    const tmp = join(tmpDir, `${randomUUID()}.part`);

    const hash = createHash('sha256');
    let size = 0;
    const measure = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    const handle = await open(tmp, 'wx', FILE_MODE);
    try {
      await pipeline(content, measure, fileSink(handle));
    } catch (error) {
      await handle.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw error;
    }
    await handle.close();
    try {
      await rename(tmp, target);
    } catch (error) {
      await unlink(tmp).catch(() => undefined);
      throw error;
    }
    return { size, sha256: hash.digest('hex') };
  }

  async get(key: string): Promise<Readable> {
    assertStorageKey(key);
    try {
      const handle = await open(this.pathOf(key), 'r');
      return handle.createReadStream({ autoClose: true });
    } catch (error) {
      if (isNotFound(error)) throw new StorageObjectNotFoundError(key);
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    assertStorageKey(key);
    try {
      await unlink(this.pathOf(key));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  private pathOf(key: string): string {
    // assertStorageKey allows exactly one '/' between two safe segments, so the path cannot leave rootDir.
    return join(this.rootDir, key);
  }
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** Writes every chunk to `handle` and fsyncs before finishing, so the rename only ever publishes durable bytes. */
function fileSink(handle: FileHandle): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      writeFully(handle, chunk).then(() => callback(), callback);
    },
    final(callback) {
      handle.sync().then(() => callback(), callback);
    },
  });
}

async function writeFully(handle: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}
