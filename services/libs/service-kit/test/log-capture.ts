import { Writable } from 'node:stream';

/** A pino destination that keeps the parsed lines, for assertions on what was logged. */
export class LogCapture extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    for (const line of chunk.toString().split('\n')) {
      if (line.trim()) this.lines.push(JSON.parse(line) as Record<string, unknown>);
    }
    callback();
  }

  find(predicate: (line: Record<string, unknown>) => boolean): Array<Record<string, unknown>> {
    return this.lines.filter(predicate);
  }
}
