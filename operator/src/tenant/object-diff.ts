/**
 * Whether every field of `desired` (an apply configuration) already has that value in `live`. Fields the API
 * server or other managers add to `live` are ignored; lists must match element by element (in order), each element
 * itself by this rule. The reconciler applies only objects for which this is false, so that a tenant in its desired
 * state costs no write at all (server-side apply of an unchanged configuration is a no-op, but still a request).
 */
export function isSubset(desired: unknown, live: unknown): boolean {
  if (desired === null || typeof desired !== 'object') return desired === live || (desired === undefined && live === undefined);
  if (Array.isArray(desired)) {
    return Array.isArray(live) && live.length === desired.length && desired.every((item, i) => isSubset(item, live[i]));
  }
  if (live === null || typeof live !== 'object' || Array.isArray(live)) return false;
  const liveRecord = live as Record<string, unknown>;
  return Object.entries(desired as Record<string, unknown>).every(([key, value]) => value === undefined || isSubset(value, liveRecord[key]));
}
