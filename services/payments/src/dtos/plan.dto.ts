import { ApiProperty } from '@nestjs/swagger';
import { Plan, PlanInterval } from '../entities/plan';

export class PlanDto {
  @ApiProperty({ example: 'basic-monthly' })
  id!: string;

  @ApiProperty({ example: 'Basic' })
  name!: string;

  @ApiProperty({ description: 'Price per interval in the smallest currency unit', example: 999 })
  amountCents!: number;

  @ApiProperty({ description: 'ISO 4217', example: 'USD' })
  currency!: string;

  @ApiProperty({ enum: ['month', 'year'] })
  interval!: PlanInterval;

  static from(plan: Plan): PlanDto {
    return { id: plan.id, name: plan.name, amountCents: plan.amountCents, currency: plan.currency, interval: plan.interval };
  }
}

export class PlanListDto {
  @ApiProperty({ type: [PlanDto] })
  items!: PlanDto[];
}
