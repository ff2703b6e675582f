import type { LoginHistoryCursor } from '../repositories/login-history.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PAYLOAD = /^(\d{1,15}):(.+)$/;
/** 9999-12-31T23:59:59.999Z: later dates do not round-trip through PostgreSQL. */
const MAX_EPOCH_MS = 253_402_300_799_999;

/**
 * Keyset cursors for the login history: opaque (base64url) to clients, `<occurred_at epoch ms>:<id>` inside.
 * occurred_at is stored with millisecond precision, so the cursor round-trips exactly.
 */
export const LoginHistoryCursorCodec = {
  encode(cursor: LoginHistoryCursor): string {
    return Buffer.from(`${cursor.occurredAt.getTime()}:${cursor.id}`, 'utf8').toString('base64url');
  },

  /** The cursor, or undefined when `value` is not one this service issued. */
  decode(value: string): LoginHistoryCursor | undefined {
    if (!/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
    const match = PAYLOAD.exec(Buffer.from(value, 'base64url').toString('utf8'));
    if (!match || !UUID.test(match[2]!)) return undefined;
    const epochMs = Number(match[1]);
    if (epochMs > MAX_EPOCH_MS) return undefined;
    return { occurredAt: new Date(epochMs), id: match[2]! };
  },
};
