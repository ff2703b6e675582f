import { BlockList, isIP } from 'node:net';

/** Who is on the other end of a login or refresh: recorded in sessions and login history, keyed for rate limits. */
export interface ClientInfo {
  /** The client's address as far as trusted proxies tell; undefined when unknown (calls made outside HTTP). */
  readonly ip?: string;
  /** The User-Agent header, cut to USER_AGENT_MAX_LENGTH; undefined when absent. */
  readonly userAgent?: string;
}

export const UNKNOWN_CLIENT: ClientInfo = {};
export const USER_AGENT_MAX_LENGTH = 512;
/** The local gateway (nginx) runs on loopback; deployments list their ingress addresses in TRUSTED_PROXIES. */
export const DEFAULT_TRUSTED_PROXIES = '127.0.0.1,::1';

export const ClientInfoErrors = {
  badProxy: (entry: string) =>
    `TRUSTED_PROXIES: "${entry}" is not an IP address or CIDR range (for example 10.0.0.0/8 or 127.0.0.1)`,
} as const;

/** The addresses whose X-Forwarded-For is believed: plain IPs and CIDR ranges, IPv4 and IPv6. */
export class TrustedProxies {
  private constructor(private readonly list: BlockList) {}

  /** Parses a comma-separated list; throws on an entry that is neither an IP nor a CIDR range. */
  static parse(value: string): TrustedProxies {
    const list = new BlockList();
    for (const entry of value.split(',').map((part) => part.trim()).filter(Boolean)) {
      const [address, prefix] = entry.split('/');
      const family = isIP(address ?? '');
      if (family === 0) throw new Error(ClientInfoErrors.badProxy(entry));
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) {
        list.addAddress(address!, type);
        continue;
      }
      const bits = Number(prefix);
      if (!/^\d+$/.test(prefix) || bits > (family === 4 ? 32 : 128)) throw new Error(ClientInfoErrors.badProxy(entry));
      list.addSubnet(address!, bits, type);
    }
    return new TrustedProxies(list);
  }

  trusts(address: string): boolean {
    const plain = unmapIpv4(address);
    const family = isIP(plain);
    return family !== 0 && this.list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  }

  /**
   * The client address: walk X-Forwarded-For from the nearest hop back while the hop is a trusted proxy; the first
   * untrusted address is the client. A client cannot forge its way past the first trusted proxy, because that proxy
   * appends the address it saw.
   */
  clientAddress(socketAddress: string | undefined, forwardedFor: string | string[] | undefined): string | undefined {
    if (!socketAddress) return undefined;
    let current = unmapIpv4(socketAddress);
    if (!this.trusts(current) || !forwardedFor) return current;
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
      .split(',')
      .map((hop) => hop.trim())
      .filter(Boolean);
    for (let index = hops.length - 1; index >= 0; index--) {
      const hop = unmapIpv4(hops[index]!);
      if (isIP(hop) === 0) return current;
      current = hop;
      if (!this.trusts(hop)) return hop;
    }
    return current;
  }
}

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
