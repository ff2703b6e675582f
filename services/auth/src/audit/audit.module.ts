import { Module } from '@nestjs/common';
import { AuditBusController } from './audit-bus.controller';
import { AuditController } from './audit.controller';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';

/** The audit log: `GET /auth/audit`, the `audit.recorded` consumer, and AuditService for auth's own entries. */
@Module({
  controllers: [AuditController, AuditBusController],
  providers: [AuditRepository, AuditService],
  exports: [AuditService],
})
export class AuditModule {}
