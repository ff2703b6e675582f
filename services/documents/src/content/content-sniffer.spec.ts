import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sampleDocx, samplePdf } from '../../test/fixtures';
import { SupportedContentTypes } from './content-type';
import { ContentSniffer, ContentTooLargeError, UnsupportedContentError } from './content-sniffer';

/** Feeds `content` in chunks of `chunkSize` through a sniffer and collects what passes. */
async function run(content: Buffer, options: { maxBytes: number; chunkSize?: number; tailBytes?: number }) {
  const sniffer = new ContentSniffer({ maxBytes: options.maxBytes, tailBytes: options.tailBytes });
  const chunks: Buffer[] = [];
  const chunkSize = options.chunkSize ?? 7;
  const source = Readable.from(
    (function* () {
      for (let i = 0; i < content.length; i += chunkSize) yield content.subarray(i, i + chunkSize);
    })(),
  );
  await pipeline(
    source,
    sniffer,
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk);
        cb();
      },
    }),
  );
  return { sniffer, passed: Buffer.concat(chunks) };
}

describe('ContentSniffer', () => {
  it('passes a PDF through unchanged and reports its type', async () => {
    const pdf = samplePdf();
    const { sniffer, passed } = await run(pdf, { maxBytes: 1024, chunkSize: 3 });
    expect(passed.equals(pdf)).toBe(true);
    expect(sniffer.contentType).toBe(SupportedContentTypes.pdf);
    expect(sniffer.byteCount).toBe(pdf.length);
  });

  it('recognises a DOCX from a bounded tail, byte by byte', async () => {
    const docx = sampleDocx(20_000);
    const { sniffer } = await run(docx, { maxBytes: 1_000_000, chunkSize: 1, tailBytes: 1024 });
    expect(sniffer.contentType).toBe(SupportedContentTypes.docx);
  });

  it('fails on the first bytes of something that is no accepted type', async () => {
    const source = new PassThrough();
    const sniffer = new ContentSniffer({ maxBytes: 1_000_000 });
    const done = pipeline(source, sniffer, new Writable({ write: (_c, _e, cb) => cb() }));
    // The source never ends: the sniffer must fail on the first chunk, not wait for the rest.
    source.write(Buffer.from('not a pdf at all'));
    await expect(done).rejects.toBeInstanceOf(UnsupportedContentError);
  });

  it('fails at the end when a ZIP turns out not to be a DOCX', async () => {
    const { zipOf } = await import('../../test/fixtures');
    await expect(run(zipOf({ 'a.txt': 'a' }), { maxBytes: 1024 })).rejects.toBeInstanceOf(UnsupportedContentError);
  });

  it('fails as soon as the content passes maxBytes', async () => {
    const big = Buffer.concat([samplePdf(), Buffer.alloc(2000)]);
    await expect(run(big, { maxBytes: 1000, chunkSize: 100 })).rejects.toBeInstanceOf(ContentTooLargeError);
  });

  it('accepts content of exactly maxBytes', async () => {
    const pdf = samplePdf();
    await expect(run(pdf, { maxBytes: pdf.length })).resolves.toBeDefined();
  });
});
