import { Controller, UseFilters } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload as MessagePayload } from '@nestjs/microservices';
import { BusContext, BusExceptionFilter } from '@rallyforge/bus';
import { Commands, Events, type CommandReply } from '@rallyforge/contracts';
import {
  DocumentsUserDataService,
  type DocumentsUserDataExport,
  type ExportDocumentsUserData,
  type OrganisationDeleted,
  type UserDeletionRequested,
} from '../services/user-data.service';

/** GDPR export and erasure of one user, and the purge of a deleted organisation (all sent by auth). */
@Controller()
@UseFilters(BusExceptionFilter)
export class UserDataBusController {
  constructor(private readonly userData: DocumentsUserDataService) {}

  @MessagePattern(Commands.exportDocumentsUserData.type)
  export(@MessagePayload() command: ExportDocumentsUserData, @Ctx() ctx: BusContext): Promise<CommandReply<DocumentsUserDataExport>> {
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
