/**
 * The document types RallyForge accepts as evidence, recognised from the content's magic bytes only: a file's
 * name and the client's Content-Type are both under the uploader's control, so neither is trusted.
 */
export const SupportedContentTypes = {
  pdf: 'application/pdf',
  jpeg: 'image/jpeg',
  png: 'image/png',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
} as const;
export type SupportedContentType = (typeof SupportedContentTypes)[keyof typeof SupportedContentTypes];

export const PDF_MAGIC = Buffer.from('%PDF-', 'ascii');
export const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff]);
export const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** A ZIP archive starts with a local file header. DOCX is a ZIP; what makes it a DOCX is its entry names. */
export const ZIP_LOCAL_HEADER_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

/** Bytes needed at the start of the content to tell the candidates apart. */
export const SNIFF_HEAD_BYTES = 8;

const ZIP_EOCD_SIGNATURE = 0x06054b50;
const ZIP_EOCD_MIN_SIZE = 22;
const ZIP_MAX_COMMENT_SIZE = 0xffff;
const ZIP_CENTRAL_ENTRY_SIGNATURE = 0x02014b50;
const ZIP_CENTRAL_ENTRY_FIXED_SIZE = 46;
/** ZIP64 marks sizes/offsets with all-ones; a DOCX within our upload limit never needs it, so we refuse it. */
const ZIP_UINT32_SENTINEL = 0xffffffff;
const ZIP_UINT16_SENTINEL = 0xffff;

const DOCX_CONTENT_TYPES_ENTRY = '[Content_Types].xml';
const DOCX_WORD_PREFIX = 'word/';

/** What the start of the content says: a final type, a ZIP that needs its central directory, or nothing we accept. */
export type HeadVerdict = { kind: 'type'; contentType: SupportedContentType } | { kind: 'zip' } | { kind: 'unsupported' };

/** Classifies the first bytes of a file. `head` may be shorter than SNIFF_HEAD_BYTES for tiny files. */
export function classifyHead(head: Buffer): HeadVerdict {
  if (startsWith(head, PDF_MAGIC)) return { kind: 'type', contentType: SupportedContentTypes.pdf };
  if (startsWith(head, PNG_MAGIC)) return { kind: 'type', contentType: SupportedContentTypes.png };
  if (startsWith(head, JPEG_MAGIC)) return { kind: 'type', contentType: SupportedContentTypes.jpeg };
  if (startsWith(head, ZIP_LOCAL_HEADER_MAGIC)) return { kind: 'zip' };
  return { kind: 'unsupported' };
}

/**
 * True when `head` can still become a supported type once more bytes arrive (used to fail early on junk
 * without waiting for the whole upload).
 */
export function couldStillMatch(head: Buffer): boolean {
  return [PDF_MAGIC, PNG_MAGIC, JPEG_MAGIC, ZIP_LOCAL_HEADER_MAGIC].some((magic) =>
    startsWith(magic, head.subarray(0, Math.min(head.length, magic.length))),
  );
}

/**
 * Reads the entry names of a ZIP archive from its end (End Of Central Directory + central directory).
 *
 * @param tail the last bytes of the archive (at least the whole central directory and the EOCD record)
 * @param totalSize the archive's full size, so central-directory offsets can be mapped into `tail`
 * @returns the entry names, or undefined when `tail` does not hold a complete, well-formed central directory
 */
export function readZipEntryNames(tail: Buffer, totalSize: number): string[] | undefined {
  const eocd = findEndOfCentralDirectory(tail);
  if (eocd < 0) return undefined;
  const entryCount = tail.readUInt16LE(eocd + 10);
  const cdSize = tail.readUInt32LE(eocd + 12);
  const cdOffset = tail.readUInt32LE(eocd + 16);
  if (entryCount === ZIP_UINT16_SENTINEL || cdSize === ZIP_UINT32_SENTINEL || cdOffset === ZIP_UINT32_SENTINEL) {
    return undefined;
  }
  const tailStart = totalSize - tail.length;
  const start = cdOffset - tailStart;
  if (start < 0 || start + cdSize > eocd) return undefined;

  const names: string[] = [];
  let pos = start;
  for (let i = 0; i < entryCount; i++) {
    if (pos + ZIP_CENTRAL_ENTRY_FIXED_SIZE > eocd) return undefined;
    if (tail.readUInt32LE(pos) !== ZIP_CENTRAL_ENTRY_SIGNATURE) return undefined;
    const nameLength = tail.readUInt16LE(pos + 28);
    const extraLength = tail.readUInt16LE(pos + 30);
    const commentLength = tail.readUInt16LE(pos + 32);
    const nameStart = pos + ZIP_CENTRAL_ENTRY_FIXED_SIZE;
    if (nameStart + nameLength > eocd) return undefined;
    names.push(tail.toString('utf8', nameStart, nameStart + nameLength));
    pos = nameStart + nameLength + extraLength + commentLength;
  }
  return names;
}

/** A ZIP is a DOCX when it has the OPC content-types part and the WordprocessingML folder. */
export function isDocxEntryList(names: readonly string[]): boolean {
  return names.includes(DOCX_CONTENT_TYPES_ENTRY) && names.some((n) => n.startsWith(DOCX_WORD_PREFIX));
}

/** Sniffs a whole file held in memory (tests, small inputs). The upload path streams through ContentSniffer. */
export function sniffContentType(content: Buffer): SupportedContentType | undefined {
  const verdict = classifyHead(content.subarray(0, SNIFF_HEAD_BYTES));
  if (verdict.kind === 'type') return verdict.contentType;
  if (verdict.kind === 'unsupported') return undefined;
  const names = readZipEntryNames(content, content.length);
  return names && isDocxEntryList(names) ? SupportedContentTypes.docx : undefined;
}

function findEndOfCentralDirectory(buf: Buffer): number {
  const lowest = Math.max(0, buf.length - ZIP_EOCD_MIN_SIZE - ZIP_MAX_COMMENT_SIZE);
  for (let pos = buf.length - ZIP_EOCD_MIN_SIZE; pos >= lowest; pos--) {
    if (buf.readUInt32LE(pos) === ZIP_EOCD_SIGNATURE) {
      const commentLength = buf.readUInt16LE(pos + 20);
      if (pos + ZIP_EOCD_MIN_SIZE + commentLength === buf.length) return pos;
    }
  }
  return -1;
}

function startsWith(buf: Buffer, prefix: Buffer): boolean {
  return buf.length >= prefix.length && buf.subarray(0, prefix.length).equals(prefix);
}
