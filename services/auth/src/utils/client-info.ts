import { isIP } from 'node:net';

/** Who is on the other end of a login or refresh: recorded in sessions and login history, keyed for rate limits. */
export interface ClientInfo {
  /**
   * The client's address as Fastify resolves it: X-Forwarded-For is believed only from the kit's TRUSTED_PROXIES (the
   * gateway, the ingress); undefined when unknown (calls made outside HTTP).
   */
  readonly ip?: string;
  /** The User-Agent header, cut to USER_AGENT_MAX_LENGTH; undefined when absent. */
  readonly userAgent?: string;
}

export const UNKNOWN_CLIENT: ClientInfo = {};
export const USER_AGENT_MAX_LENGTH = 512;
/** `::ffff:127.0.0.1` → `127.0.0.1`, so one client has one key whichever way the socket reports it. */
export function unmapIpv4(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** The User-Agent as stored: trimmed, control characters dropped, cut to a bounded length. */
export function normaliseUserAgent(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return undefined;
  // eslint-disable-next-line no-control-regex
  const clean = raw.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return clean ? clean.slice(0, USER_AGENT_MAX_LENGTH) : undefined;
}

const BROWSERS: Array<[RegExp, string]> = [
  [/Edg(e|A|iOS)?\//, 'Edge'],
  [/OPR\/|Opera/, 'Opera'],
  [/Firefox\/|FxiOS\//, 'Firefox'],
  [/Chrome\/|CriOS\//, 'Chrome'],
  [/Safari\//, 'Safari'],
  [/^curl\//, 'curl'],
  [/^node|undici/i, 'Node.js'],
];
const SYSTEMS: Array<[RegExp, string]> = [
  [/iPhone|iPad|iPod/, 'iOS'],
  [/Android/, 'Android'],
  [/Windows/, 'Windows'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/CrOS/, 'ChromeOS'],
  [/Linux/, 'Linux'],
];

/** A short, human label for a user agent ("Firefox on Linux"); only to help people recognise their sessions. */
export function describeDevice(userAgent: string | null | undefined): string {
  if (!userAgent) return 'Unknown device';
  const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1];
  const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1];
  if (browser && system) return `${browser} on ${system}`;
  return browser ?? system ?? 'Unknown device';
}
