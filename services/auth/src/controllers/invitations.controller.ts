import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentUser, Public, Roles, type AuthUser } from '@rallyforge/service-kit';
import { AcceptInvitationDto, CreateInvitationDto, InvitationDto } from '../dtos/invitation.dto';
import { UserResponseDto } from '../dtos/user.dto';
import { INVITING_ROLE, InvitationService } from '../services/invitation.service';

/** Invitations into the caller's organisation (org_admin), and their acceptance (public, with the e-mailed token). */
@ApiTags('invitations')
@Controller('auth/invitations')
export class InvitationsController {
  constructor(private readonly invitations: InvitationService) {}

  @Post()
  @Roles(INVITING_ROLE)
  @ApiBearerAuth()
  @ApiOperation({ summary: "Invite someone into the caller's organisation with a role; the invitation is e-mailed" })
  @ApiCreatedResponse({ type: InvitationDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED (bad e-mail or role, or unknown fields such as organisation)' })
  @ApiForbiddenResponse({ description: 'FORBIDDEN (not an org_admin) or ORGANISATION_SUSPENDED' })
  @ApiConflictResponse({ description: 'ALREADY_MEMBER or INVITATION_PENDING' })
  invite(@CurrentUser() user: AuthUser, @Body() dto: CreateInvitationDto): Promise<InvitationDto> {
    return this.invitations.invite(user, dto);
  }

  @Get()
  @Roles(INVITING_ROLE)
  @ApiBearerAuth()
  @ApiOperation({ summary: "The caller's organisation's pending invitations (not accepted, revoked or expired)" })
  @ApiOkResponse({ type: InvitationDto, isArray: true })
  @ApiForbiddenResponse({ description: 'FORBIDDEN (not an org_admin)' })
  list(@CurrentUser() user: AuthUser): Promise<InvitationDto[]> {
    return this.invitations.listPending(user);
  }

  @Delete(':id')
  @Roles(INVITING_ROLE)
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Revoke a pending invitation: its token stops working' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiForbiddenResponse({ description: 'FORBIDDEN (not an org_admin)' })
  @ApiNotFoundResponse({ description: "INVITATION_NOT_FOUND (also for other organisations' invitations)" })
  revoke(@CurrentUser() user: AuthUser, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    return this.invitations.revoke(user, id);
  }

  @Public()
  @Post('accept')
  @ApiOperation({ summary: 'Accept an e-mailed invitation: creates the account with the invited role, e-mail verified' })
  @ApiCreatedResponse({ type: UserResponseDto })
  @ApiBadRequestResponse({ description: 'INVALID_TOKEN (unknown or revoked), TOKEN_EXPIRED, TOKEN_ALREADY_USED, WEAK_PASSWORD' })
  @ApiForbiddenResponse({ description: 'ORGANISATION_SUSPENDED' })
  @ApiConflictResponse({ description: 'EMAIL_TAKEN' })
  accept(@Body() dto: AcceptInvitationDto): Promise<UserResponseDto> {
    return this.invitations.accept(dto);
  }
}
