import { Body, Controller, Delete, Get, Header, HttpCode, HttpStatus, Param, ParseUUIDPipe, Post, StreamableFile } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { CurrentUser, type AuthUser } from '@rallyforge/service-kit';
import { DeleteAccountDto, GdprJobDto } from '../dtos/gdpr.dto';
import { GdprService } from '../services/gdpr.service';

/** The user's GDPR rights over their own data: export (access, portability) and deletion (erasure). */
@ApiTags('gdpr')
@ApiBearerAuth()
@Controller('auth/me')
export class GdprController {
  constructor(private readonly gdpr: GdprService) {}

  @Post('export')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Start an export of everything RallyForge holds about the caller (a tar.gz assembled in the background)' })
  @ApiAcceptedResponse({ type: GdprJobDto })
  @ApiUnauthorizedResponse({ description: 'Missing or invalid access token' })
  requestExport(@CurrentUser() user: AuthUser): Promise<GdprJobDto> {
    return this.gdpr.requestExport(user);
  }

  @Get('export/:id')
  @ApiOperation({ summary: "Status of one of the caller's exports (pending, ready with a download URL, failed, expired)" })
  @ApiOkResponse({ type: GdprJobDto })
  @ApiNotFoundResponse({ description: 'EXPORT_NOT_FOUND (also for anyone else’s export)' })
  getExport(@CurrentUser() user: AuthUser, @Param('id', ParseUUIDPipe) id: string): Promise<GdprJobDto> {
    return this.gdpr.getExport(user, id);
  }

  @Get('export/:id/archive')
  @Header('Cache-Control', 'private, no-store')
  @Header('X-Content-Type-Options', 'nosniff')
  @ApiOperation({ summary: 'Download a ready export (only its owner, until it expires)' })
  @ApiProduces('application/gzip')
  @ApiOkResponse({ schema: { type: 'string', format: 'binary' } })
  @ApiNotFoundResponse({ description: 'EXPORT_NOT_FOUND' })
  @ApiConflictResponse({ description: 'EXPORT_NOT_READY (pending, failed or expired)' })
  downloadExport(@CurrentUser() user: AuthUser, @Param('id', ParseUUIDPipe) id: string): Promise<StreamableFile> {
    return this.gdpr.downloadExport(user, id);
  }

  @Delete()
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: "Delete the caller's account and data in every service (password re-confirmation required)" })
  @ApiAcceptedResponse({ type: GdprJobDto, description: 'The deletion job; the account is locked at once and erased once every service confirmed' })
  @ApiUnauthorizedResponse({ description: 'PASSWORD_CONFIRMATION_FAILED, or a missing/invalid access token' })
  requestDeletion(@CurrentUser() user: AuthUser, @Body() dto: DeleteAccountDto): Promise<GdprJobDto> {
    return this.gdpr.requestDeletion(user, dto);
  }
}
