/**
 * Pure rules for signing-key rotation, kept apart from I/O so they can be tested with plain dates.
 *
 * Lifecycle of a key: created → signs (once it is the active key that retires first) → retires (stops signing) →
 * stays in the JWKS for a grace period so tokens it signed keep verifying → dropped from the JWKS.
 * A successor is created `prepublishMs` before the current key retires; because the signer always picks the active key
 * that retires first, the successor is published in the JWKS for that long before it signs anything, so verifiers
 * with a cached JWKS already know it.
 */
export interface ScheduledKey {
  kid: string;
  createdAt: Date;
  retiresAt: Date;
}

export interface RotationSettings {
  /** How long a key signs. */
  rotationMs: number;
  /** How long before the current key retires its successor is created (and published). */
  prepublishMs: number;
  /** How long a retired key stays in the JWKS; must exceed the access-token lifetime. */
  graceMs: number;
}

/** The key that signs now: the active key (not yet retired) that retires first; undefined if none is active. */
export function pickSigningKey<K extends ScheduledKey>(keys: readonly K[], now: Date): K | undefined {
  return keys
    .filter((k) => k.retiresAt.getTime() > now.getTime())
    .sort((a, b) => a.retiresAt.getTime() - b.retiresAt.getTime())[0];
}

/** True when no active key will still be active after the prepublish window: time to create the next one. */
export function needsNewKey(keys: readonly ScheduledKey[], now: Date, settings: RotationSettings): boolean {
  const horizon = now.getTime() + settings.prepublishMs;
  return !keys.some((k) => k.retiresAt.getTime() > horizon);
}

/** Keys that belong in the JWKS: active ones and those retired less than the grace period ago. */
export function publishedKeys<K extends ScheduledKey>(keys: readonly K[], now: Date, settings: RotationSettings): K[] {
  return keys
    .filter((k) => k.retiresAt.getTime() + settings.graceMs > now.getTime())
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
}

/**
 * When a key created now should retire. A successor gets the full rotation period after the current key retires
 * (so keys do not drift earlier each generation); the very first key starts its period now.
 */
export function retirementFor(keys: readonly ScheduledKey[], now: Date, settings: RotationSettings): Date {
  const latest = Math.max(now.getTime(), ...keys.map((k) => k.retiresAt.getTime()));
  return new Date(latest + settings.rotationMs);
}
