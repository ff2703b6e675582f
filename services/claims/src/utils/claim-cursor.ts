/** Position after the last claim of a page: claims are ordered by (created_at DESC, id DESC). */
export interface ClaimCursor {
  createdAt: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PAYLOAD = /^(\d{1,15}):(.+)$/;
/** 9999-12-31T23:59:59.999Z: no claim is created later, and later dates do not round-trip through PostgreSQL. */
const MAX_EPOCH_MS = 253_402_300_799_999;

/**
 * Keyset pagination cursors: opaque (base64url) to clients, `<created_at epoch ms>:<id>` inside. created_at is
 * stored with millisecond precision (timestamptz(3)), so the cursor round-trips exactly and the next page is
 * one index range scan instead of an OFFSET that grows with every page.
 */
export const ClaimCursorCodec = {
  encode(cursor: ClaimCursor): string {
    return Buffer.from(`${cursor.createdAt.getTime()}:${cursor.id}`, 'utf8').toString('base64url');
  },

  /** The cursor, or undefined when `value` is not a cursor this service issued. */
  decode(value: string): ClaimCursor | undefined {
    if (!/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
    const match = PAYLOAD.exec(Buffer.from(value, 'base64url').toString('utf8'));
    if (!match || !UUID.test(match[2]!)) return undefined;
    const epochMs = Number(match[1]);
    if (epochMs > MAX_EPOCH_MS) return undefined;
    const createdAt = new Date(epochMs);
    return { createdAt, id: match[2]! };
  },
};
