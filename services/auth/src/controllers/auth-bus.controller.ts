import { Controller, UseFilters } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { BusContext, BusExceptionFilter } from '@rallyforge/bus';
import { Commands, Events, type CommandReply } from '@rallyforge/contracts';
import {
  OrganisationLifecycleService,
  type DeprovisionOrganisationCommand,
  type DeprovisionOrganisationResult,
} from '../services/organisation-lifecycle.service';
import { OrganisationService, type UpsertOrganisationCommand, type UpsertOrganisationResult } from '../services/organisation.service';
import { SubscriptionService, type PaymentSucceededEvent } from '../services/subscription.service';

/**
 * Bus handlers. Payloads were validated against their contracts before these run; `ctx.manager` is the inbox
 * transaction, so the writes commit together with "message handled". The filter keeps a handler's real error for
 * the parked message's headers (scoped to this controller: it must never see HTTP exceptions).
 */
@Controller()
@UseFilters(new BusExceptionFilter())
export class AuthBusController {
  constructor(
    private readonly organisations: OrganisationService,
    private readonly subscriptions: SubscriptionService,
    private readonly lifecycle: OrganisationLifecycleService,
  ) {}

  @MessagePattern(Commands.upsertOrganisation.type)
  upsertOrganisation(
    @Payload() command: UpsertOrganisationCommand,
    @Ctx() ctx: BusContext,
  ): Promise<CommandReply<UpsertOrganisationResult>> {
    return this.organisations.upsert(ctx.manager, ctx, command);
  }

  @MessagePattern(Commands.deprovisionOrganisation.type)
  deprovisionOrganisation(
    @Payload() command: DeprovisionOrganisationCommand,
    @Ctx() ctx: BusContext,
  ): Promise<CommandReply<DeprovisionOrganisationResult>> {
    return this.lifecycle.deprovision(ctx.manager, ctx, command);
  }

  @EventPattern(Events.paymentSucceeded.type)
  paymentSucceeded(@Payload() event: PaymentSucceededEvent, @Ctx() ctx: BusContext): Promise<void> {
    return this.subscriptions.recordPayment(ctx.manager, ctx, event);
  }
}
