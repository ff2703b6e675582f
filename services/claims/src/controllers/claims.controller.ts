import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentUser, type AuthUser } from '@rallyforge/service-kit';
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
  @HttpCode(201)
  @ApiOperation({ summary: 'Files a claim for the caller (veterans); emits claim.created' })
  @ApiCreatedResponse({ type: ClaimDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: title or type invalid, or unknown fields' })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: the caller is not a veteran' })
  create(@CurrentUser() user: AuthUser, @Body() dto: CreateClaimDto): Promise<ClaimDto> {
    return this.service.create(user, dto);
  }

  @Get()
  @ApiOperation({ summary: "Lists the caller's claims (representatives, org admins: the organisation's), newest first" })
  @ApiOkResponse({ type: ClaimPageDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED or INVALID_CURSOR' })
  list(@CurrentUser() user: AuthUser, @Query() query: ListClaimsQueryDto): Promise<ClaimPageDto> {
    return this.service.list(user, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One claim with its evidence' })
  @ApiOkResponse({ type: ClaimDto })
  @ApiNotFoundResponse({ description: "CLAIM_NOT_FOUND: no such claim, or not one the caller may see" })
  get(@CurrentUser() user: AuthUser, @Param('id', ParseUUIDPipe) id: string): Promise<ClaimDto> {
    return this.service.get(user, id);
  }
}
