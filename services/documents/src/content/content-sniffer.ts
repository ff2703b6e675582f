import { Transform, TransformCallback } from 'node:stream';
import {
  SNIFF_HEAD_BYTES,
  SupportedContentType,
  SupportedContentTypes,
  ZIP_LOCAL_HEADER_MAGIC,
  classifyHead,
  couldStillMatch,
  isDocxEntryList,
  readZipEntryNames,
} from './content-type';

/**
 * How much of the end of a ZIP is kept to read its central directory. A DOCX's directory is a few KiB
 * (about 60 bytes per entry); 256 KiB leaves room for thousands of entries while bounding memory per upload.
 */
export const SNIFF_TAIL_BYTES = 256 * 1024;

/** The content is not one of the accepted types (PDF, JPEG, PNG, DOCX). */
export class UnsupportedContentError extends Error {
  override readonly name = 'UnsupportedContentError';
}

/** The content is longer than the configured maximum. */
export class ContentTooLargeError extends Error {
  override readonly name = 'ContentTooLargeError';
  constructor(readonly maxBytes: number) {
    super(`content exceeds ${maxBytes} bytes`);
  }
}

export interface ContentSnifferOptions {
  /** Longest accepted content; one byte more fails the stream with ContentTooLargeError. */
  maxBytes: number;
  /** @default SNIFF_TAIL_BYTES */
  tailBytes?: number;
}

/**
 * A pass-through stream that recognises the content type from magic bytes while the upload streams to storage,
 * and fails the stream (so the storage driver never commits the object) when the content is too large or is not
 * an accepted type. Junk is refused as soon as its first bytes arrive; a ZIP is only known to be a DOCX at the
 * end, from its central directory.
 */
export class ContentSniffer extends Transform {
  private head = Buffer.alloc(0);
  private tailChunks: Buffer[] = [];
  private tailLength = 0;
  private bytes = 0;
  private detected: SupportedContentType | undefined;
  private readonly maxBytes: number;
  private readonly tailBytes: number;

  constructor(options: ContentSnifferOptions) {
    super();
    this.maxBytes = options.maxBytes;
    this.tailBytes = options.tailBytes ?? SNIFF_TAIL_BYTES;
  }

  /** The recognised type; set once the stream has finished successfully. */
  get contentType(): SupportedContentType | undefined {
    return this.detected;
  }

  get byteCount(): number {
    return this.bytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      callback(new ContentTooLargeError(this.maxBytes));
      return;
    }
    if (this.head.length < SNIFF_HEAD_BYTES) {
      this.head = Buffer.concat([this.head, chunk.subarray(0, SNIFF_HEAD_BYTES - this.head.length)]);
      if (!couldStillMatch(this.head)) {
        callback(new UnsupportedContentError('content is not a PDF, JPEG, PNG or DOCX'));
        return;
      }
    }
    this.keepTail(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const verdict = classifyHead(this.head);
    if (verdict.kind === 'type') {
      this.detected = verdict.contentType;
    } else if (verdict.kind === 'zip') {
      const names = readZipEntryNames(Buffer.concat(this.tailChunks), this.bytes);
      if (names && isDocxEntryList(names)) this.detected = SupportedContentTypes.docx;
    }
    this.tailChunks = [];
    if (!this.detected) {
      callback(new UnsupportedContentError('content is not a PDF, JPEG, PNG or DOCX'));
      return;
    }
    callback();
  }

  private keepTail(chunk: Buffer): void {
    // Only ZIPs need the tail; other types are decided by their head.
    if (!mayBeZip(this.head)) return;
    this.tailChunks.push(chunk);
    this.tailLength += chunk.length;
    while (this.tailChunks.length > 1 && this.tailLength - this.tailChunks[0]!.length >= this.tailBytes) {
      this.tailLength -= this.tailChunks.shift()!.length;
    }
  }
}

function mayBeZip(head: Buffer): boolean {
  const n = Math.min(head.length, ZIP_LOCAL_HEADER_MAGIC.length);
  return head.subarray(0, n).equals(ZIP_LOCAL_HEADER_MAGIC.subarray(0, n));
}
