/** Position after the last entry of a page: entries are ordered by (occurred_at DESC, id DESC). */
export interface AuditCursor {
  occurredAt: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PAYLOAD = /^(\d{1,15}):(.+)$/;
const MAX_EPOCH_MS = 253_402_300_799_999;

/** Opaque keyset cursors (`<occurred_at epoch ms>:<id>` in base64url); occurred_at is stored to the millisecond. */
export const AuditCursorCodec = {
  encode(cursor: AuditCursor): string {
    return Buffer.from(`${cursor.occurredAt.getTime()}:${cursor.id}`, 'utf8').toString('base64url');
  },

  decode(value: string): AuditCursor | undefined {
    if (!/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
    const match = PAYLOAD.exec(Buffer.from(value, 'base64url').toString('utf8'));
    if (!match || !UUID.test(match[2]!)) return undefined;
    const epochMs = Number(match[1]);
    if (epochMs > MAX_EPOCH_MS) return undefined;
    return { occurredAt: new Date(epochMs), id: match[2]! };
  },
};
