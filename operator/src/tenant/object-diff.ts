/**
 * Whether every field of `desired` (an apply configuration) already has that value in `live`. Fields the API
 * server or other managers add to `live` are ignored; lists must match element by element (in order), each element
 * itself by this rule. The reconciler applies only objects for which this is false, so that a tenant in its desired
 * state costs no write at all (server-side apply of an unchanged configuration is a no-op, but still a request).
 */
export function isSubset(desired: unknown, live: unknown): boolean {
  return firstDifference(desired, live) === undefined;
}

/**
 * The path of the first field of `desired` that `live` does not have (`spec.ports[0].protocol`), or undefined
 * when `desired` is a subset of `live` (see isSubset). Logged when the reconciler writes, to say why it did.
 */
export function firstDifference(desired: unknown, live: unknown, path = ''): string | undefined {
  // The API server drops zero values of omitempty fields (cdk8s-plus writes hostNetwork: false, externalIPs: []):
  // absent in the live object is the same as zero.
  if (live === undefined && isZeroValue(desired)) return undefined;
  if (desired === null || typeof desired !== 'object') {
    return desired === live || (desired === undefined && live === undefined) ? undefined : path || '.';
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return path || '.';
    for (const [i, item] of desired.entries()) {
      const found = firstDifference(item, live[i], `${path}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (live === null || typeof live !== 'object' || Array.isArray(live)) return path || '.';
  const liveRecord = live as Record<string, unknown>;
  for (const [key, value] of Object.entries(desired as Record<string, unknown>)) {
    if (value === undefined) continue;
    const segment = /^[A-Za-z_$][\w$]*$/.test(key) ? (path ? `.${key}` : key) : `[${JSON.stringify(key)}]`;
    const found = firstDifference(value, liveRecord[key], `${path}${segment}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** false, 0, '', and arrays and objects made only of those (recursively): what Go's omitempty leaves out. */
function isZeroValue(value: unknown): boolean {
  if (value === false || value === 0 || value === '' || value === undefined) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (value !== null && typeof value === 'object') return Object.values(value).every(isZeroValue);
  return false;
}
