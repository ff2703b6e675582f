import { AppError } from '@rallyforge/service-kit';
import { ContentTooLargeError, UnsupportedContentError } from '../content/content-sniffer';
import { toUploadError } from './documents.service';

const MAX = 10 * 1024 * 1024;

function mapped(error: unknown): { status: number; code: string } | unknown {
  const result = toUploadError(error, MAX);
  return result instanceof AppError ? { status: result.status, code: result.code } : result;
}

describe('toUploadError', () => {
  it('maps content problems to 413 and 415', () => {
    expect(mapped(new ContentTooLargeError(MAX))).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    expect(mapped(new UnsupportedContentError('nope'))).toEqual({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it('maps multipart limit and parse errors to 413 and 400', () => {
    expect(mapped(Object.assign(new Error('reach files limit'), { code: 'FST_FILES_LIMIT' }))).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    expect(mapped(Object.assign(new Error('too large'), { code: 'FST_REQ_FILE_TOO_LARGE' }))).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    expect(mapped(new Error('Part terminated early due to unexpected end of multipart data'))).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
  });

  it('passes AppErrors and unknown failures (storage, database) through unchanged', () => {
    const appError = new AppError(400, 'VALIDATION_FAILED', 'x');
    expect(toUploadError(appError, MAX)).toBe(appError);
    const disk = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    expect(toUploadError(disk, MAX)).toBe(disk);
  });
});
