import { Controller, UseFilters } from '@nestjs/common';
import { Ctx, EventPattern } from '@nestjs/microservices';
import { Events } from '@rallyforge/contracts';
import { BusContext, BusExceptionFilter } from '@rallyforge/bus';
import { EventFanoutService } from '../services/event-fanout.service';

/**
 * Bus handlers of the realtime service (queue `rf.realtime`). The bus has validated envelope, contract, payload
 * and tenant header before they run; each hands the event to the fan-out in one line.
 */
@Controller()
// Keeps a handler's real error: a refusal (403) is parked at once with its message instead of retried as a failure.
@UseFilters(BusExceptionFilter)
export class RealtimeEventsController {
  constructor(private readonly fanout: EventFanoutService) {}

  @EventPattern(Events.claimCreated.type)
  claimCreated(@Ctx() ctx: BusContext): Promise<void> {
    return this.fanout.forward(ctx.envelope, ctx.tenantId);
  }

  @EventPattern(Events.claimEvidenceAdded.type)
  claimEvidenceAdded(@Ctx() ctx: BusContext): Promise<void> {
    return this.fanout.forward(ctx.envelope, ctx.tenantId);
  }

  @EventPattern(Events.documentUploaded.type)
  documentUploaded(@Ctx() ctx: BusContext): Promise<void> {
    return this.fanout.forward(ctx.envelope, ctx.tenantId);
  }

  @EventPattern(Events.paymentSucceeded.type)
  paymentSucceeded(@Ctx() ctx: BusContext): Promise<void> {
    return this.fanout.forward(ctx.envelope, ctx.tenantId);
  }
}
