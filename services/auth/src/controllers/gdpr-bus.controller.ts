import { Controller, UseFilters } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { BusContext, BusExceptionFilter } from '@rallyforge/bus';
import { Events } from '@rallyforge/contracts';
import { GdprService, type UserDataErased, type UserExportRequested } from '../services/gdpr.service';

/** GDPR jobs on the bus: auth's own export job, and the services' confirmations of an erasure. */
@Controller()
@UseFilters(new BusExceptionFilter())
export class GdprBusController {
  constructor(private readonly gdpr: GdprService) {}

  @EventPattern(Events.userExportRequested.type)
  runExport(@Payload() event: UserExportRequested, @Ctx() ctx: BusContext): Promise<void> {
    return this.gdpr.runExport(event, ctx);
  }

  @EventPattern(Events.userDataErased.type)
  recordErasure(@Payload() event: UserDataErased, @Ctx() ctx: BusContext): Promise<void> {
    return this.gdpr.recordErasure(event, ctx);
  }
}
