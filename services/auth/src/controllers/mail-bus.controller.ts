import { Controller, UseFilters } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { BusContext, BusExceptionFilter } from '@rallyforge/bus';
import { Events } from '@rallyforge/contracts';
import { MailDeliveryService } from '../services/mail-delivery.service';
import type { EmailRequestedEvent } from '../services/mail-request.service';
import { PasswordResetService, type PasswordResetRequestedEvent } from '../services/password-reset.service';

/**
 * Auth's own mail pipeline on the bus: reset requests become tokens and e-mail requests, e-mail requests go out over
 * SMTP. Both run in the inbox transaction (`ctx.manager`); failures are retried and then parked by the bus.
 */
@Controller()
@UseFilters(new BusExceptionFilter())
export class MailBusController {
  constructor(
    private readonly mail: MailDeliveryService,
    private readonly passwordReset: PasswordResetService,
  ) {}

  @EventPattern(Events.emailRequested.type)
  emailRequested(@Payload() request: EmailRequestedEvent, @Ctx() ctx: BusContext): Promise<void> {
    return this.mail.deliver(ctx.manager, { tenantId: ctx.tenantId, actor: ctx.actor, messageId: ctx.messageId }, request);
  }

  @EventPattern(Events.passwordResetRequested.type)
  passwordResetRequested(@Payload() event: PasswordResetRequestedEvent, @Ctx() ctx: BusContext): Promise<void> {
    return this.passwordReset.issue(ctx.manager, ctx, event);
  }
}
