import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, RequirePermission, type AuthUser } from '@rallyforge/service-kit';
import { AuditPageDto, ListAuditQueryDto } from './audit.dto';
import { AuditService } from './audit.service';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('auth/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @RequirePermission('audit:read')
  @ApiOperation({ summary: "The caller's organisation's audit log, newest first (org_admin only)" })
  @ApiOkResponse({ type: AuditPageDto })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED (bad filter) or INVALID_CURSOR' })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: the caller is not an org_admin' })
  list(@CurrentUser() user: AuthUser, @Query() query: ListAuditQueryDto): Promise<AuditPageDto> {
    return this.audit.list(user, query);
  }
}
