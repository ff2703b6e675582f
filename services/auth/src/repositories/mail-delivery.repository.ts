import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';

/** Which outbox e-mails were handed to the SMTP server (see the AccountEmail migration for why beside the inbox). */
@Injectable()
export class MailDeliveryRepository {
  async wasSent(manager: EntityManager, tenantId: string, messageId: string): Promise<boolean> {
    const rows: unknown[] = await manager.query(`SELECT 1 FROM mail_deliveries WHERE tenant_id = $1 AND message_id = $2`, [
      tenantId,
      messageId,
    ]);
    return rows.length > 0;
  }

  async record(manager: EntityManager, tenantId: string, messageId: string, template: string): Promise<void> {
    await manager.query(
      `INSERT INTO mail_deliveries (message_id, tenant_id, template) VALUES ($1, $2, $3) ON CONFLICT (message_id) DO NOTHING`,
      [messageId, tenantId, template],
    );
  }

  /** Housekeeping: rows older than the inbox's duplicate window are no longer needed. */
  async deleteSentBefore(manager: EntityManager, tenantId: string, before: Date): Promise<void> {
    await manager.query(`DELETE FROM mail_deliveries WHERE tenant_id = $1 AND sent_at < $2`, [tenantId, before]);
  }
}
