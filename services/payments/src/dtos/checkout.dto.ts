import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';

export class CheckoutDto {
  @ApiProperty({ description: 'Id of the plan to buy (see GET /api/v1/payments/plans)', example: 'basic-monthly', pattern: '^[a-z0-9][a-z0-9-]{0,63}$' })
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9-]{0,63}$/, { message: 'planId must be a plan id such as basic-monthly (lower-case letters, digits, dashes)' })
  planId!: string;
}
