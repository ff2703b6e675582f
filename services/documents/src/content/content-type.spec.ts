import { sampleDocx, sampleJpeg, samplePdf, samplePng, zipOf } from '../../test/fixtures';
import { SupportedContentTypes, couldStillMatch, readZipEntryNames, sniffContentType } from './content-type';

describe('sniffContentType', () => {
  it('recognises PDF, PNG, JPEG and DOCX from their bytes', () => {
    expect(sniffContentType(samplePdf())).toBe(SupportedContentTypes.pdf);
    expect(sniffContentType(samplePng())).toBe(SupportedContentTypes.png);
    expect(sniffContentType(sampleJpeg())).toBe(SupportedContentTypes.jpeg);
    expect(sniffContentType(sampleDocx())).toBe(SupportedContentTypes.docx);
  });

  it('refuses plain text, HTML and empty content', () => {
    expect(sniffContentType(Buffer.from('just some text pretending to be a PDF'))).toBeUndefined();
    expect(sniffContentType(Buffer.from('<html><script>alert(1)</script></html>'))).toBeUndefined();
    expect(sniffContentType(Buffer.alloc(0))).toBeUndefined();
  });

  it('refuses near misses of the magic numbers', () => {
    expect(sniffContentType(Buffer.from('%PDF'))).toBeUndefined();
    expect(sniffContentType(Buffer.from([0xff, 0xd8, 0x00]))).toBeUndefined();
    expect(sniffContentType(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x00]))).toBeUndefined();
  });

  it('refuses a ZIP that is not a Word document', () => {
    expect(sniffContentType(zipOf({ 'hello.txt': 'hi' }))).toBeUndefined();
    expect(sniffContentType(zipOf({ '[Content_Types].xml': '<Types/>', 'xl/workbook.xml': '<w/>' }))).toBeUndefined();
    expect(sniffContentType(zipOf({ 'word/document.xml': '<w/>' }))).toBeUndefined();
  });

  it('refuses a truncated ZIP', () => {
    const docx = sampleDocx();
    expect(sniffContentType(docx.subarray(0, docx.length - 30))).toBeUndefined();
  });

  it('reads entry names behind an archive comment', () => {
    const zip = zipOf({ '[Content_Types].xml': '<Types/>', 'word/document.xml': '<w/>' }, { comment: 'made by test' });
    expect(sniffContentType(zip)).toBe(SupportedContentTypes.docx);
  });
});

describe('readZipEntryNames', () => {
  it('maps central-directory offsets into a tail of the archive', () => {
    const zip = sampleDocx(4096);
    const tail = zip.subarray(zip.length - 400);
    expect(readZipEntryNames(tail, zip.length)).toEqual([
      '[Content_Types].xml',
      '_rels/.rels',
      'word/document.xml',
      'word/media/padding.bin',
    ]);
  });

  it('gives up when the tail does not reach back to the central directory', () => {
    const zip = sampleDocx(4096);
    expect(readZipEntryNames(zip.subarray(zip.length - 60), zip.length)).toBeUndefined();
  });
});

describe('couldStillMatch', () => {
  it('keeps prefixes of known magic numbers alive and drops anything else', () => {
    expect(couldStillMatch(Buffer.from('%P'))).toBe(true);
    expect(couldStillMatch(Buffer.from([0x50, 0x4b]))).toBe(true);
    expect(couldStillMatch(Buffer.from('Hello'))).toBe(false);
  });
});
