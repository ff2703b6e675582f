import { FALLBACK_FILENAME, FILENAME_MAX_BYTES, attachmentDisposition, sanitizeFilename } from './filename';

describe('sanitizeFilename', () => {
  it('keeps an ordinary name', () => {
    expect(sanitizeFilename('DD214 - discharge.pdf')).toBe('DD214 - discharge.pdf');
    expect(sanitizeFilename('Relevé médical.pdf')).toBe('Relevé médical.pdf');
  });

  it('strips directories of either separator', () => {
    expect(sanitizeFilename('../../etc/passwd')).toBe('passwd');
    expect(sanitizeFilename('C:\\Users\\vet\\evidence.pdf')).toBe('evidence.pdf');
  });

  it('removes control characters, bidi overrides and reserved characters', () => {
    expect(sanitizeFilename('re\u0000port\r\n.pdf')).toBe('report.pdf');
    expect(sanitizeFilename('invoice\u202Efdp.exe')).toBe('invoicefdp.exe');
    expect(sanitizeFilename('a<b>c:"d"|e?*.pdf')).toBe('a_b_c__d__e__.pdf');
  });

  it('drops leading dots and trailing dots and spaces', () => {
    expect(sanitizeFilename('.hidden.pdf')).toBe('hidden.pdf');
    expect(sanitizeFilename('name.pdf. . ')).toBe('name.pdf');
  });

  it('falls back when nothing usable is left', () => {
    expect(sanitizeFilename(undefined)).toBe(FALLBACK_FILENAME);
    expect(sanitizeFilename('')).toBe(FALLBACK_FILENAME);
    expect(sanitizeFilename('..')).toBe(FALLBACK_FILENAME);
    expect(sanitizeFilename('dir/')).toBe(FALLBACK_FILENAME);
    expect(sanitizeFilename('\u0001\u0002')).toBe(FALLBACK_FILENAME);
  });

  it('limits the length in bytes, keeping the extension and whole characters', () => {
    const long = `${'é'.repeat(300)}.docx`;
    const result = sanitizeFilename(long);
    expect(Buffer.byteLength(result, 'utf8')).toBeLessThanOrEqual(FILENAME_MAX_BYTES);
    expect(result.endsWith('.docx')).toBe(true);
    expect(result).not.toContain('\uFFFD');
  });
});

describe('attachmentDisposition', () => {
  it('sends an ASCII fallback and the exact UTF-8 name', () => {
    expect(attachmentDisposition('Relevé "final" (1).pdf')).toBe(
      `attachment; filename="Relev_ _final_ (1).pdf"; filename*=UTF-8''Relev%C3%A9%20%22final%22%20%281%29.pdf`,
    );
  });
});
