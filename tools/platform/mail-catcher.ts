import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';

/** Messages larger than this are refused: the platform's e-mails are a few kilobytes. */
export const MAIL_CATCHER_MAX_BYTES = 1024 * 1024;
/** How long `waitFor` waits for a matching message by default. */
export const MAIL_CATCHER_WAIT_MS = 15_000;
/** Name of the pid file (in `<state>/run/`) of a detached catcher (`npm run up -- --detach`). */
export const MAIL_CATCHER_PID_NAME = 'mail-catcher';

/** One message the catcher received, decoded enough to read (plain-text body, subject). */
export interface CaughtMail {
  id: string;
  receivedAt: Date;
  /** The SMTP envelope: MAIL FROM and every RCPT TO. */
  from: string;
  to: string[];
  subject: string;
  /** The text/plain body, transfer-decoded (quoted-printable or base64) and in UTF-8. */
  text: string;
  raw: string;
  /** Where it was stored (`<dir>/<time>-<id>.eml`), when the catcher has a directory. */
  file?: string;
}

export interface MailCatcherOptions {
  /** 0 picks a free port (tests). */
  port: number;
  /** @default '127.0.0.1' (never reachable from outside the machine) */
  host?: string;
  /** Store every message as `<time>-<id>.eml` here (`.rallyforge/mail/` for `npm run up`); in memory only when unset. */
  dir?: string;
  /** Called for every message (up prints a line). */
  onMail?: (mail: CaughtMail) => void;
}

export interface MailCatcher {
  port: number;
  /** `smtp://127.0.0.1:<port>`: what auth's SMTP_URL is set to. */
  url: string;
  /** Every message received so far, oldest first. */
  readonly messages: readonly CaughtMail[];
  /** Resolves with the first message (already received or still to come) that matches, or rejects after the timeout. */
  waitFor(match: (mail: CaughtMail) => boolean, timeoutMs?: number): Promise<CaughtMail>;
  close(): Promise<void>;
}

/**
 * A development SMTP server that delivers nowhere: it accepts every message (no authentication, no TLS, loopback
 * only), keeps it in memory and, given a directory, stores it as an .eml file. `npm run up` points auth's SMTP_URL
 * at it; auth's tests start their own on a free port and read the tokens out of the messages.
 */
export async function startMailCatcher(options: MailCatcherOptions): Promise<MailCatcher> {
  const host = options.host ?? '127.0.0.1';
  const messages: CaughtMail[] = [];
  const waiters = new Set<{ match: (mail: CaughtMail) => boolean; resolve: (mail: CaughtMail) => void }>();
  if (options.dir) mkdirSync(options.dir, { recursive: true, mode: 0o700 });

  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: MAIL_CATCHER_MAX_BYTES,
    banner: 'RallyForge mail catcher (development only: nothing is delivered)',
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        if ((stream as { sizeExceeded?: boolean }).sizeExceeded) {
          callback(Object.assign(new Error('Message too large for the mail catcher'), { responseCode: 552 }));
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        const { subject, text } = decodeMail(raw);
        const receivedAt = new Date();
        const id = randomBytes(6).toString('hex');
        const mail: CaughtMail = {
          id,
          receivedAt,
          from: addressOf(session.envelope.mailFrom),
          to: session.envelope.rcptTo.map(addressOf),
          subject,
          text,
          raw,
        };
        if (options.dir) {
          mail.file = join(options.dir, `${receivedAt.toISOString().replace(/[:.]/g, '-')}-${id}.eml`);
          writeFileSync(mail.file, raw, { mode: 0o600 });
        }
        messages.push(mail);
        for (const waiter of [...waiters]) {
          if (waiter.match(mail)) {
            waiters.delete(waiter);
            waiter.resolve(mail);
          }
        }
        options.onMail?.(mail);
        callback();
      });
    },
  });
  server.on('error', () => undefined); // a client that drops the connection must not stop the catcher

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(new Error(`Mail catcher could not listen on ${host}:${options.port}: ${error.message}`));
    server.server.once('error', onError);
    server.listen(options.port, host, () => {
      server.server.off('error', onError);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;

  return {
    port,
    url: `smtp://${host}:${port}`,
    messages,
    waitFor(match, timeoutMs = MAIL_CATCHER_WAIT_MS) {
      const already = messages.find(match);
      if (already) return Promise.resolve(already);
      return new Promise<CaughtMail>((resolve, reject) => {
        const waiter = {
          match,
          resolve: (mail: CaughtMail) => {
            clearTimeout(timer);
            resolve(mail);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`No matching e-mail within ${timeoutMs} ms (${messages.length} received)`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function addressOf(address: SMTPServerAddress | false): string {
  return address ? address.address : '';
}

/**
 * Just enough MIME to read the platform's e-mails: unfolded headers, RFC 2047 encoded words in the subject, the first
 * text/plain part of a multipart message, quoted-printable and base64 transfer encodings.
 */
export function decodeMail(raw: string): { subject: string; text: string } {
  const { headers, body } = splitEntity(raw);
  const subject = decodeEncodedWords(headers.get('subject') ?? '');
  return { subject, text: textOf(headers, body) };
}

function textOf(headers: Map<string, string>, body: string): string {
  const contentType = headers.get('content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (/^multipart\//i.test(contentType) && boundary) {
    for (const part of body.split(`--${boundary}`).slice(1)) {
      if (part.startsWith('--')) break;
      const entity = splitEntity(part.replace(/^\r?\n/, ''));
      const type = entity.headers.get('content-type') ?? 'text/plain';
      if (/^(text\/plain|multipart\/)/i.test(type)) return textOf(entity.headers, entity.body);
    }
    return '';
  }
  return decodeTransfer(body, headers.get('content-transfer-encoding') ?? '7bit');
}

function splitEntity(raw: string): { headers: Map<string, string>; body: string } {
  const normalised = raw.replace(/\r\n/g, '\n');
  const end = normalised.indexOf('\n\n');
  const head = end === -1 ? normalised : normalised.slice(0, end);
  const body = end === -1 ? '' : normalised.slice(end + 2);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function decodeTransfer(body: string, encoding: string): string {
  switch (encoding.trim().toLowerCase()) {
    case 'quoted-printable':
      return decodeQuotedPrintable(body);
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    default:
      return body;
  }
}

function decodeQuotedPrintable(body: string): string {
  const bytes: number[] = [];
  const text = body.replace(/=\n/g, '');
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(text[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function decodeEncodedWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_match, _charset: string, kind: string, data: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64').toString('utf8')
        : decodeQuotedPrintable(data.replace(/_/g, ' ')),
    );
}

/** The catcher of `npm run up`: where auth's mail goes and how to stop it. */
export interface PlatformMail {
  url: string;
  dir: string;
  close(): Promise<void>;
}

/**
 * Starts the catcher for `npm run up` on `port`, storing into `<stateDir>/mail/`: in this process, or (`detach`) as a
 * detached process with a pid file in `<stateDir>/run/` that `npm run down` (killPidFiles) stops.
 */
export async function startPlatformMailCatcher(options: {
  port: number;
  stateDir: string;
  repoRoot: string;
  detach: boolean;
  log: (msg: string) => void;
}): Promise<PlatformMail> {
  const dir = join(options.stateDir, 'mail');
  const shown = relative(options.repoRoot, dir) || dir;
  if (!options.detach) {
    const catcher = await startMailCatcher({
      port: options.port,
      dir,
      onMail: (mail) => options.log(`e-mail "${mail.subject}" caught: ${relative(options.repoRoot, mail.file ?? '') || mail.file}`),
    });
    return { url: catcher.url, dir: shown, close: () => catcher.close() };
  }
  mkdirSync(join(options.stateDir, 'run'), { recursive: true });
  mkdirSync(join(options.stateDir, 'logs'), { recursive: true });
  const out = openSync(join(options.stateDir, 'logs', 'mail-catcher.log'), 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, '--port', String(options.port), '--dir', dir], {
    cwd: options.repoRoot,
    detached: true,
    stdio: ['ignore', out, out],
  });
  child.unref();
  closeSync(out);
  writeFileSync(join(options.stateDir, 'run', `${MAIL_CATCHER_PID_NAME}.pid`), String(child.pid ?? -1));
  const deadline = Date.now() + 15_000;
  while (!(await accepts(options.port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`The mail catcher did not start on port ${options.port}; see .rallyforge/logs/mail-catcher.log (RF_SMTP_PORT moves it)`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { url: `smtp://127.0.0.1:${options.port}`, dir: shown, close: async () => undefined };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** `node --import tsx tools/platform/mail-catcher.ts --port 11025 --dir .rallyforge/mail` (what `up --detach` runs). */
async function main(argv: string[]): Promise<void> {
  const arg = (name: string) => {
    const index = argv.indexOf(`--${name}`);
    return index === -1 ? undefined : argv[index + 1];
  };
  const catcher = await startMailCatcher({ port: Number(arg('port') ?? 0), dir: arg('dir') });
  process.stdout.write(`[mail] catching e-mail on ${catcher.url}${arg('dir') ? `, stored in ${arg('dir')}` : ''}\n`);
  const stop = () => void catcher.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
