import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PaymentEntity, PaymentStatus } from '../entities/payment.entity';

export class PaymentDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  userId!: string;

  @ApiProperty({ example: 'basic-monthly' })
  planId!: string;

  @ApiProperty({ example: 999 })
  amountCents!: number;

  @ApiProperty({ example: 'USD' })
  currency!: string;

  @ApiProperty({ enum: ['pending', 'succeeded', 'failed'] })
  status!: PaymentStatus;

  @ApiProperty({ example: 'dev-instant' })
  provider!: string;

  @ApiPropertyOptional({ description: 'Where the user finishes a pending checkout', nullable: true, type: String })
  checkoutUrl!: string | null;

  @ApiPropertyOptional({ description: 'End of the paid period, once succeeded', nullable: true, type: String, format: 'date-time' })
  periodEnd!: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;

  /** The provider's reference stays internal: it is for reconciliation, not for clients. */
  static from(payment: PaymentEntity): PaymentDto {
    return {
      id: payment.id,
      userId: payment.userId,
      planId: payment.planId,
      amountCents: payment.amountCents,
      currency: payment.currency,
      status: payment.status,
      provider: payment.provider,
      checkoutUrl: payment.checkoutUrl,
      periodEnd: payment.periodEnd ? payment.periodEnd.toISOString() : null,
      createdAt: payment.createdAt.toISOString(),
      updatedAt: payment.updatedAt.toISOString(),
    };
  }
}

export class PaymentListDto {
  @ApiProperty({ type: [PaymentDto] })
  items!: PaymentDto[];

  @ApiProperty()
  limit!: number;

  @ApiProperty()
  offset!: number;
}
