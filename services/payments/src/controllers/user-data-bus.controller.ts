import { Controller, UseFilters } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload as MessagePayload } from '@nestjs/microservices';
import { BusContext, BusExceptionFilter } from '@rallyforge/bus';
import { Commands, Events, type CommandReply } from '@rallyforge/contracts';
import {
  PaymentsUserDataService,
  type ExportPaymentsUserData,
  type OrganisationDeleted,
  type PaymentsUserDataExport,
  type UserDeletionRequested,
} from '../services/user-data.service';

/** GDPR export and erasure of one user, and the purge of a deleted organisation (all sent by auth). */
@Controller()
@UseFilters(BusExceptionFilter)
export class UserDataBusController {
  constructor(private readonly userData: PaymentsUserDataService) {}

  @MessagePattern(Commands.exportPaymentsUserData.type)
  export(@MessagePayload() command: ExportPaymentsUserData, @Ctx() ctx: BusContext): Promise<CommandReply<PaymentsUserDataExport>> {
    return this.userData.export(command, ctx);
  }

  @EventPattern(Events.userDeletionRequested.type)
  erase(@MessagePayload() event: UserDeletionRequested, @Ctx() ctx: BusContext): Promise<void> {
    return this.userData.erase(event, ctx);
  }

  @EventPattern(Events.organisationDeleted.type)
  purgeOrganisation(@MessagePayload() event: OrganisationDeleted, @Ctx() ctx: BusContext): Promise<void> {
    return this.userData.purgeOrganisation(event, ctx);
  }
}
