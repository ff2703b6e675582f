import helmet, { type HelmetOptions } from 'helmet';

/**
 * The seed's security headers (docs seed §4.1 "Security Headers"), adapted to JSON APIs:
 * - X-Frame-Options: SAMEORIGIN, X-Content-Type-Options: nosniff,
 *   Referrer-Policy: strict-origin-when-cross-origin,
 *   Strict-Transport-Security: max-age=31536000; includeSubDomains — as in the seed.
 * - Content-Security-Policy: `default-src 'none'; frame-ancestors 'self'; …` instead of the seed's policy, which
 *   was written for the React app (it allows inline and eval'd scripts). An API answers JSON only, so it allows
 *   nothing; frame-ancestors matches X-Frame-Options.
 * - X-XSS-Protection: `0` (helmet's value) instead of the seed's `1; mode=block`: browsers removed the XSS
 *   auditor, and where it still exists its block mode was itself a cross-site leak (OWASP's current advice is 0).
 * Helmet's other defaults (COOP, CORP same-origin, Origin-Agent-Cluster, no X-Powered-By…) stay on.
 */
export const SECURITY_HEADERS: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'none'"],
      frameAncestors: ["'self'"],
    },
  },
  xFrameOptions: { action: 'sameorigin' },
  xContentTypeOptions: true,
  referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
  strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true, preload: false },
  xXssProtection: true,
};

/**
 * The headers helmet sets for SECURITY_HEADERS, computed once: they do not depend on the request, and running
 * helmet's middleware per request re-parsed the CSP directives every time (visible in a CPU profile of the hot
 * GET path). Helmet stays the source of the values; it only runs at boot.
 */
export function computeSecurityHeaders(options: HelmetOptions = SECURITY_HEADERS): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string) => void (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  let error: unknown;
  helmet(options)({} as never, response as never, (err?: unknown) => void (error = err));
  if (error) throw error;
  return headers;
}
