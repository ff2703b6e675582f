import { Body, Controller, Get, Headers, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOkResponse, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Public } from '@rallyforge/service-kit';
import { CheckoutDto } from '../dtos/checkout.dto';
import { ListPaymentsQueryDto } from '../dtos/list-payments-query.dto';
import { PaymentDto, PaymentListDto } from '../dtos/payment.dto';
import { PlanListDto } from '../dtos/plan.dto';
import { IDEMPOTENCY_KEY_HEADER } from '../payments.constants';
import { PaymentsService } from '../services/payments.service';

@ApiTags('payments')
@Controller('payments')
export class PaymentsController {
  constructor(private readonly service: PaymentsService) {}

  @Public()
  @Get('plans')
  @ApiOperation({ summary: 'Lists the subscription plans (public: prices only, nothing tenant-specific)' })
  @ApiOkResponse({ type: PlanListDto })
  listPlans(): Promise<PlanListDto> {
    return this.service.listPlans();
  }

  @Post('checkout')
  @HttpCode(201)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Buys a plan for the caller; retries with the same Idempotency-Key return the same payment' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: '1-255 printable ASCII characters, unique per intended checkout' })
  @ApiCreatedResponse({ type: PaymentDto })
  checkout(
    @CurrentUser() user: AuthUser,
    @Body() dto: CheckoutDto,
    @Headers(IDEMPOTENCY_KEY_HEADER) idempotencyKey?: string,
  ): Promise<PaymentDto> {
    return this.service.checkout(user, dto, idempotencyKey);
  }

  @Get()
  @ApiBearerAuth()
  @ApiOperation({ summary: "Lists the caller's payments (org_admin: the organisation's), newest first" })
  @ApiOkResponse({ type: PaymentListDto })
  list(@CurrentUser() user: AuthUser, @Query() query: ListPaymentsQueryDto): Promise<PaymentListDto> {
    return this.service.list(user, query);
  }

  @Get(':id')
  @ApiBearerAuth()
  @ApiOperation({ summary: "One of the caller's payments (org_admin: any of the organisation's)" })
  @ApiOkResponse({ type: PaymentDto })
  get(@CurrentUser() user: AuthUser, @Param('id', ParseUUIDPipe) id: string): Promise<PaymentDto> {
    return this.service.get(user, id);
  }
}
