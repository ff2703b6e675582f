import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentUser, RequirePermission, type AuthUser } from '@rallyforge/service-kit';
import { ChangeClaimStatusDto } from '../dtos/change-claim-status.dto';
import { ClaimDto, ClaimPageDto } from '../dtos/claim.dto';
import { CreateClaimDto } from '../dtos/create-claim.dto';
import { ListClaimsQueryDto } from '../dtos/list-claims-query.dto';
import { ClaimsService } from '../services/claims.service';

@ApiTags('claims')
@ApiBearerAuth()
@Controller('claims')
export class ClaimsController {
  constructor(private readonly service: ClaimsService) {}

  @Post()
  @RequirePermission('claims:create')
  @HttpCode(201)
  @ApiOperation({ summary: 'Files a claim for the caller (veterans); emits claim.created' })
  @ApiCreatedResponse({ type: ClaimDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: title or type invalid, or unknown fields' })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: the caller is not a veteran' })
  create(@CurrentUser() user: AuthUser, @Body() dto: CreateClaimDto): Promise<ClaimDto> {
    return this.service.create(user, dto);
  }

  @Get()
  @RequirePermission('claims:read')
  @ApiOperation({ summary: "Lists the caller's claims (representatives, org admins: the organisation's), newest first" })
  @ApiOkResponse({ type: ClaimPageDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED or INVALID_CURSOR' })
  list(@CurrentUser() user: AuthUser, @Query() query: ListClaimsQueryDto): Promise<ClaimPageDto> {
    return this.service.list(user, query);
  }

  @Get(':id')
  @RequirePermission('claims:read')
  @ApiOperation({ summary: 'One claim with its evidence' })
  @ApiOkResponse({ type: ClaimDto })
  @ApiNotFoundResponse({ description: "CLAIM_NOT_FOUND: no such claim, or not one the caller may see" })
  get(@CurrentUser() user: AuthUser, @Param('id', ParseUUIDPipe) id: string): Promise<ClaimDto> {
    return this.service.get(user, id);
  }

  @Patch(':id/status')
  @RequirePermission('claims:update-status')
  @ApiOperation({ summary: "Moves a claim of the organisation to a new status (representatives, org admins); audited" })
  @ApiOkResponse({ type: ClaimDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: unknown status or unknown fields' })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: the caller is not a representative or org admin' })
  @ApiNotFoundResponse({ description: 'CLAIM_NOT_FOUND: no such claim in the organisation' })
  @ApiConflictResponse({ description: 'CLAIM_STATUS_TRANSITION_INVALID: the claim cannot go to that status from its current one' })
  changeStatus(
    @CurrentUser() user: AuthUser,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: ChangeClaimStatusDto,
  ): Promise<ClaimDto> {
    return this.service.changeStatus(user, id, dto);
  }
}
