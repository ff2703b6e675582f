import { Module } from '@nestjs/common';
import { OrganisationLimitsService } from './organisation-limits.service';

/** Organisations' application limits (stored here, published to Redis for every service). */
@Module({ providers: [OrganisationLimitsService], exports: [OrganisationLimitsService] })
export class LimitsModule {}
