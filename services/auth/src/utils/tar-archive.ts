import { gzipSync } from 'node:zlib';

/** One file of an archive. */
export interface ArchiveEntry {
  /** Relative path with `/` separators; at most TAR_NAME_MAX_BYTES bytes of UTF-8 (callers shorten names). */
  name: string;
  content: Buffer | string;
  /** @default the time the archive is built */
  mtime?: Date;
}

const BLOCK = 512;
/** The ustar `name` field; no `prefix` splitting: our names are generated and short. */
export const TAR_NAME_MAX_BYTES = 100;
/** Largest size the 11-digit octal field holds (8 GiB - 1). */
const TAR_SIZE_MAX = 0o77777777777;

export class TarEntryError extends Error {
  override readonly name = 'TarEntryError';
}

/**
 * A minimal POSIX ustar writer (regular files only) followed by gzip: enough for a GDPR export, which any `tar`
 * and archive tool opens, without a dependency. Names are validated, never trusted: no absolute paths, no `..`.
 */
export function tarGz(entries: readonly ArchiveEntry[], now: Date = new Date()): Buffer {
  return gzipSync(tar(entries, now));
}

export function tar(entries: readonly ArchiveEntry[], now: Date = new Date()): Buffer {
  const parts: Buffer[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    assertSafeName(entry.name);
    if (seen.has(entry.name)) throw new TarEntryError(`Duplicate archive entry "${entry.name}"`);
    seen.add(entry.name);
    const content = typeof entry.content === 'string' ? Buffer.from(entry.content, 'utf8') : entry.content;
    if (content.length > TAR_SIZE_MAX) throw new TarEntryError(`Archive entry "${entry.name}" is larger than a ustar entry holds`);
    parts.push(header(entry.name, content.length, entry.mtime ?? now));
    parts.push(content);
    const padding = (BLOCK - (content.length % BLOCK)) % BLOCK;
    if (padding) parts.push(Buffer.alloc(padding));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

function assertSafeName(name: string): void {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes === 0 || bytes > TAR_NAME_MAX_BYTES) {
    throw new TarEntryError(`Archive entry names must be 1-${TAR_NAME_MAX_BYTES} bytes, got ${bytes}`);
  }
  if (name.startsWith('/') || name.split('/').some((part) => part === '..' || part === '' || part === '.') || /[\0\\]/.test(name)) {
    throw new TarEntryError(`Unsafe archive entry name "${name}"`);
  }
}

function header(name: string, size: number, mtime: Date): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, TAR_NAME_MAX_BYTES, 'utf8');
  octal(block, 100, 8, 0o644); // mode
  octal(block, 108, 8, 0); // uid
  octal(block, 116, 8, 0); // gid
  octal(block, 124, 12, size);
  octal(block, 136, 12, Math.floor(mtime.getTime() / 1000));
  block.fill(0x20, 148, 156); // checksum counts as spaces while it is computed
  block.write('0', 156, 1, 'ascii'); // regular file
  block.write('ustar\u000000', 257, 8, 'ascii'); // magic "ustar\0" + version "00"
  block.write('rallyforge', 265, 32, 'ascii'); // uname
  block.write('rallyforge', 297, 32, 'ascii'); // gname
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return block;
}

function octal(block: Buffer, offset: number, length: number, value: number): void {
  block.write(`${value.toString(8).padStart(length - 1, '0')}\u0000`, offset, length, 'ascii');
}

/** A file name safe inside an archive: letters, digits, `.`, `-`, `_` only, at most `max` bytes, never empty or dotted. */
export function archiveSafeName(name: string, max = 60): string {
  const cleaned = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(0, max);
  return cleaned || 'file';
}
