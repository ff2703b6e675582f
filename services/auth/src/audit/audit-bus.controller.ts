import { Controller, UseFilters } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { BusContext, BusExceptionFilter } from '@rallyforge/bus';
import { Events, type AuditEntry } from '@rallyforge/contracts';
import { RequirePermission } from '@rallyforge/service-kit';
import { AuditService } from './audit.service';

/** `audit.recorded` from every service (auth's own included): appended to the audit log in the inbox transaction. */
@Controller()
@UseFilters(new BusExceptionFilter())
export class AuditBusController {
  constructor(private readonly audit: AuditService) {}

  @EventPattern(Events.auditRecorded.type)
  @RequirePermission('audit:record')
  recorded(@Payload() entry: AuditEntry, @Ctx() ctx: BusContext): Promise<void> {
    return this.audit.store(ctx.manager, {
      tenantId: ctx.tenantId,
      messageId: ctx.messageId,
      occurredAt: ctx.envelope.occurredAt,
      source: ctx.actor?.id ?? 'unknown',
      entry,
    });
  }
}
